//! The physical scan of a SQL query: one DataFusion partition per split, each
//! read where it lives ([`Executor::read_routed`]).
//!
//! [`SplitScanCodec`] lets a plan fragment that ends in this scan travel to
//! another node (datafusion-proto), which then reads the fragment's splits
//! itself: that is how partial aggregates run on the owners
//! (see [`super::fragment`]).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use base64::Engine;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use serde::{Deserialize, Serialize};

use arrow_cache_protocol::scan::ScanTicket;

use super::Executor;
use crate::cluster::MemberInfo;

/// One split of a scan and the nodes that own it, primary first (none: read here).
#[derive(Debug, Clone)]
pub(super) struct RoutedSplit {
    pub ticket: ScanTicket,
    pub owners: Vec<MemberInfo>,
}

/// Reads a table's splits, one output partition per split.
pub(super) struct SplitScanExec {
    exec: Arc<Executor>,
    schema: SchemaRef,
    splits: Vec<RoutedSplit>,
    /// The pushed filters as SQL, for `EXPLAIN`.
    filter: Option<String>,
    properties: Arc<PlanProperties>,
}

impl SplitScanExec {
    pub(super) fn new(
        exec: Arc<Executor>,
        schema: SchemaRef,
        splits: Vec<RoutedSplit>,
        filter: Option<String>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(splits.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { exec, schema, splits, filter, properties }
    }

    pub(super) fn exec(&self) -> &Arc<Executor> {
        &self.exec
    }

    pub(super) fn splits(&self) -> &[RoutedSplit] {
        &self.splits
    }

    /// The same scan over some of its splits.
    pub(super) fn with_splits(&self, splits: Vec<RoutedSplit>) -> Self {
        Self::new(self.exec.clone(), self.schema.clone(), splits, self.filter.clone())
    }

    fn table(&self) -> &str {
        self.splits.first().map(|s| s.ticket.table.as_str()).unwrap_or("")
    }
}

impl fmt::Debug for SplitScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SplitScanExec({}, {} splits)", self.table(), self.splits.len())
    }
}

impl DisplayAs for SplitScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let columns: Vec<&str> = self.schema.fields().iter().map(|c| c.name().as_str()).collect();
        write!(
            f,
            "SplitScanExec: table={}, splits={}, columns=[{}]",
            self.table(),
            self.splits.len(),
            columns.join(", ")
        )?;
        if let Some(filter) = &self.filter {
            write!(f, ", filter={filter}")?;
        }
        if let Some(limit) = self.splits.first().and_then(|s| s.ticket.limit) {
            write!(f, ", limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SplitScanExec {
    fn name(&self) -> &'static str {
        "SplitScanExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let split = self
            .splits
            .get(partition)
            .ok_or_else(|| DataFusionError::Internal(format!("{self:?} has no partition {partition}")))?;
        let stream = self
            .exec
            .read_routed(split.ticket.clone(), split.owners.clone(), self.schema.clone())
            .map_err(DataFusionError::from);
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream.boxed())))
    }
}

/// Encodes [`SplitScanExec`] for datafusion-proto. A decoded scan has no
/// owners: the node that runs the fragment was chosen as an owner and reads
/// the splits itself.
#[derive(Debug)]
pub(super) struct SplitScanCodec {
    pub exec: Arc<Executor>,
}

/// A [`SplitScanExec`] on the wire.
#[derive(Serialize, Deserialize)]
struct EncodedScan {
    /// The output schema, as base64 datafusion-proto.
    schema: String,
    tickets: Vec<ScanTicket>,
    filter: Option<String>,
}

impl PhysicalExtensionCodec for SplitScanCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return Err(DataFusionError::Plan("a split scan has no inputs".into()));
        }
        let scan: EncodedScan =
            serde_json::from_slice(buf).map_err(|e| DataFusionError::Plan(format!("a split scan: {e}")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&scan.schema)
            .map_err(|e| DataFusionError::Plan(format!("a split scan's schema: {e}")))?;
        let proto = datafusion_proto::protobuf::Schema::decode(bytes.as_slice())
            .map_err(|e| DataFusionError::Plan(format!("a split scan's schema: {e}")))?;
        let schema = Arc::new(Schema::try_from(&proto)?);
        let splits = scan.tickets.into_iter().map(|ticket| RoutedSplit { ticket, owners: vec![] }).collect();
        Ok(Arc::new(SplitScanExec::new(self.exec.clone(), schema, splits, scan.filter)))
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> DfResult<()> {
        let Some(scan) = node.as_any().downcast_ref::<SplitScanExec>() else {
            return Err(DataFusionError::NotImplemented(format!("cannot send {} to another node", node.name())));
        };
        let proto = datafusion_proto::protobuf::Schema::try_from(scan.schema.as_ref())?;
        let encoded = EncodedScan {
            schema: base64::engine::general_purpose::STANDARD.encode(proto.encode_to_vec()),
            tickets: scan.splits.iter().map(|s| s.ticket.clone()).collect(),
            filter: scan.filter.clone(),
        };
        serde_json::to_writer(buf, &encoded)
            .map_err(|e| DataFusionError::Internal(format!("encoding a split scan: {e}")))
    }
}
