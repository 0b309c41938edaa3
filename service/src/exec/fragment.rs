//! Partial aggregation on the owners.
//!
//! DataFusion aggregates in two phases: a partial aggregate per input
//! partition, then a final one over the partial states. When a partial
//! aggregate reads a table's splits through nothing but filters and
//! projections, [`PartialAggregatesOnOwners`] cuts that fragment out of the
//! plan and [`OwnerFragmentExec`] runs it on the nodes that own the splits, so
//! only the partial states cross the network instead of the rows (TPC-H Q1
//! sends four groups per node instead of millions of rows).
//!
//! ```text
//! AggregateExec(Final)                 AggregateExec(Final)
//!   AggregateExec(Partial)     ==>       OwnerFragmentExec ── DoGet {"fragment"} ─▶ owner:
//!     FilterExec                                                 AggregateExec(Partial)
//!       SplitScanExec                                              FilterExec
//!                                                                    SplitScanExec (its splits, read locally)
//! ```
//!
//! A fragment travels as datafusion-proto ([`SplitScanCodec`] for its scan).
//! A node runs only fragments of that shape ([`is_fragment`]): a ticket can
//! never make it run arbitrary plans, such as reads of its local files.
//!
//! Failover: an owner's partial states are held back until it has finished
//! (up to [`FAILOVER_BUFFER_BYTES`]), so a dead owner's work is redone by the
//! next owner, and finally here, with nothing counted twice. Past that size
//! the states are passed on as they come, and a failure then fails the query
//! with the cause rather than risk a wrong answer.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use arrow_cache_protocol::scan::FragmentTicket;
use base64::Engine;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties, displayable,
    execute_stream,
};
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Executor;
use super::split_scan::{RoutedSplit, SplitScanCodec, SplitScanExec};
use super::sql::SqlEngine;
use crate::cluster::MemberInfo;
use crate::error::{CacheError, Result};

/// How much of an owner's partial states is held back for failover.
pub(super) const FAILOVER_BUFFER_BYTES: usize = 64 << 20;

/// A physical optimizer rule: partial aggregates over a cluster's splits run
/// on the splits' owners. Plans whose splits all live here are left alone.
#[derive(Debug, Default)]
pub(super) struct PartialAggregatesOnOwners;

impl PhysicalOptimizerRule for PartialAggregatesOnOwners {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|plan| {
            Ok(match owner_fragment(&plan)? {
                Some(exec) => Transformed::new(Arc::new(exec), true, TreeNodeRecursion::Jump),
                None => Transformed::no(plan),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "partial_aggregates_on_owners"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` as an [`OwnerFragmentExec`], if it is a partial aggregate over a
/// split scan that other nodes own parts of.
fn owner_fragment(plan: &Arc<dyn ExecutionPlan>) -> DfResult<Option<OwnerFragmentExec>> {
    let Some(aggregate) = plan.as_any().downcast_ref::<AggregateExec>() else { return Ok(None) };
    if *aggregate.mode() != AggregateMode::Partial {
        return Ok(None);
    }
    let Some(input) = rowwise_over_scan(aggregate.input())? else { return Ok(None) };
    let fragment = plan.clone().with_new_children(vec![input])?;
    let Some(scan) = leaf_scan(&fragment) else { return Ok(None) };
    let Some(cluster) = scan.exec().cluster() else { return Ok(None) };
    let remote = scan.splits().iter().any(|s| !s.owners.is_empty() && !s.owners.iter().any(|m| cluster.is_me(m)));
    if !remote {
        return Ok(None);
    }
    Ok(Some(OwnerFragmentExec::new(fragment)?))
}

/// `plan` without the operators that only reshape batches or partitions, if
/// it is made of filters and projections over one split scan.
fn rowwise_over_scan(plan: &Arc<dyn ExecutionPlan>) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    let any = plan.as_any();
    if any.is::<SplitScanExec>() {
        return Ok(Some(plan.clone()));
    }
    let [child] = plan.children()[..] else { return Ok(None) };
    let reshapes = any.is::<CooperativeExec>()
        || any
            .downcast_ref::<RepartitionExec>()
            .is_some_and(|r| matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)));
    let rowwise = any.is::<FilterExec>() || any.is::<ProjectionExec>();
    Ok(match rowwise_over_scan(child)? {
        Some(input) if reshapes => Some(input),
        Some(input) if rowwise => Some(plan.clone().with_new_children(vec![input])?),
        _ => None,
    })
}

/// Is `plan` a fragment a node may run for another: a partial aggregate over
/// filters and projections over a split scan?
pub(super) fn is_fragment(plan: &Arc<dyn ExecutionPlan>) -> bool {
    fn rowwise(plan: &Arc<dyn ExecutionPlan>) -> bool {
        let any = plan.as_any();
        match plan.children()[..] {
            [] => any.is::<SplitScanExec>(),
            [child] => (any.is::<FilterExec>() || any.is::<ProjectionExec>()) && rowwise(child),
            _ => false,
        }
    }
    let partial = plan.as_any().downcast_ref::<AggregateExec>().is_some_and(|a| *a.mode() == AggregateMode::Partial);
    partial && plan.children().len() == 1 && rowwise(plan.children()[0])
}

fn leaf_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<&SplitScanExec> {
    match plan.children()[..] {
        [] => plan.as_any().downcast_ref::<SplitScanExec>(),
        [child] => leaf_scan(child),
        _ => None,
    }
}

/// The fragment over other splits.
fn with_splits(fragment: &Arc<dyn ExecutionPlan>, splits: Vec<RoutedSplit>) -> DfResult<Arc<dyn ExecutionPlan>> {
    fragment
        .clone()
        .transform_up(|plan| {
            Ok(match plan.as_any().downcast_ref::<SplitScanExec>() {
                Some(scan) => Transformed::yes(Arc::new(scan.with_splits(splits.clone())) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(plan),
            })
        })
        .map(|t| t.data)
}

/// The splits that share one owner list, run as one fragment.
#[derive(Debug, Clone)]
struct OwnerGroup {
    owners: Vec<MemberInfo>,
    splits: Vec<RoutedSplit>,
}

/// Runs a fragment on the owners of its splits: one output partition per
/// owner list, each the partial states of that owner's splits.
pub(super) struct OwnerFragmentExec {
    exec: Arc<Executor>,
    fragment: Arc<dyn ExecutionPlan>,
    groups: Vec<OwnerGroup>,
    properties: Arc<PlanProperties>,
}

impl OwnerFragmentExec {
    fn new(fragment: Arc<dyn ExecutionPlan>) -> DfResult<Self> {
        let scan = leaf_scan(&fragment).ok_or_else(|| DataFusionError::Internal("a fragment without a scan".into()))?;
        let exec = scan.exec().clone();
        let mut groups: Vec<OwnerGroup> = vec![];
        for split in scan.splits() {
            let ids = |owners: &[MemberInfo]| owners.iter().map(|m| m.node_id.clone()).collect::<Vec<_>>();
            match groups.iter_mut().find(|g| ids(&g.owners) == ids(&split.owners)) {
                Some(group) => group.splits.push(split.clone()),
                None => groups.push(OwnerGroup { owners: split.owners.clone(), splits: vec![split.clone()] }),
            }
        }
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(fragment.schema()),
            Partitioning::UnknownPartitioning(groups.len()),
            fragment.pipeline_behavior(),
            fragment.boundedness(),
        ));
        Ok(Self { exec, fragment, groups, properties })
    }
}

impl fmt::Debug for OwnerFragmentExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerFragmentExec({} owner groups)", self.groups.len())
    }
}

impl DisplayAs for OwnerFragmentExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let owners: Vec<&str> = g.owners.iter().map(|m| m.node_id.as_str()).collect();
                format!("[{}]: {} splits", owners.join(", "), g.splits.len())
            })
            .collect();
        let fragment = displayable(self.fragment.as_ref()).one_line().to_string();
        write!(f, "OwnerFragmentExec: runs on owners {{{}}}: {}", groups.join("; "), fragment.trim_end())
    }
}

impl ExecutionPlan for OwnerFragmentExec {
    fn name(&self) -> &'static str {
        "OwnerFragmentExec"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// None: the fragment is run by the owners, not by this plan.
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        let group = self
            .groups
            .get(partition)
            .cloned()
            .ok_or_else(|| DataFusionError::Internal(format!("{self:?} has no partition {partition}")))?;
        let schema = self.schema();
        let (tx, rx) = mpsc::channel(2);
        let run = GroupRun {
            exec: self.exec.clone(),
            fragment: self.fragment.clone(),
            group,
            schema: schema.clone(),
            context,
        };
        tokio::spawn(async move { run.relay(tx).await });
        let stream = ReceiverStream::new(rx).map(|r| r.map_err(DataFusionError::from));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// One owner group's fragment, tried on each owner in turn, then here.
struct GroupRun {
    exec: Arc<Executor>,
    fragment: Arc<dyn ExecutionPlan>,
    group: OwnerGroup,
    schema: SchemaRef,
    context: Arc<TaskContext>,
}

impl GroupRun {
    async fn relay(self, tx: mpsc::Sender<Result<RecordBatch>>) {
        let here = match self.exec.cluster() {
            Some(cluster) => self.group.owners.iter().any(|m| cluster.is_me(m)),
            None => true,
        };
        if !here {
            for owner in &self.group.owners {
                match self.relay_remote(owner, &tx).await {
                    Ok(()) => return,
                    Err((passed_on, e)) if passed_on || !e.retryable() => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Err((_, e)) => {
                        tracing::warn!(owner = %owner.node_id, "a fragment failed on its owner, trying the next: {e}")
                    }
                }
            }
        }
        if let Err(e) = self.relay_local(&tx).await {
            let _ = tx.send(Err(e)).await;
        }
    }

    /// Runs the fragment here, reading the splits locally.
    async fn relay_local(&self, tx: &mpsc::Sender<Result<RecordBatch>>) -> Result<()> {
        let local =
            self.group.splits.iter().map(|s| RoutedSplit { ticket: s.ticket.clone(), owners: vec![] }).collect();
        let plan = with_splits(&self.fragment, local)?;
        let mut stream = execute_stream(plan, self.context.clone())?;
        while let Some(batch) = stream.next().await {
            if tx.send(Ok(batch?)).await.is_err() {
                break; // the reader went away
            }
        }
        Ok(())
    }

    /// Runs the fragment on `owner`. `Err((passed_on, e))`: failed, after
    /// passing on some states or not.
    async fn relay_remote(
        &self,
        owner: &MemberInfo,
        tx: &mpsc::Sender<Result<RecordBatch>>,
    ) -> std::result::Result<(), (bool, CacheError)> {
        let ticket = self.ticket().map_err(|e| (false, e))?;
        let mut stream = self.exec.read_remote(owner, ticket).await.map_err(|e| (false, e))?.batches;
        let (mut held, mut held_bytes, mut passed_on) = (vec![], 0usize, false);
        while let Some(item) = stream.next().await {
            let batch = self.ours(item.map_err(|e| (passed_on, e))?).map_err(|e| (passed_on, e))?;
            if passed_on {
                if tx.send(Ok(batch)).await.is_err() {
                    return Ok(());
                }
                continue;
            }
            held_bytes += batch.get_array_memory_size();
            held.push(batch);
            if held_bytes > FAILOVER_BUFFER_BYTES {
                passed_on = true;
                for batch in held.drain(..) {
                    if tx.send(Ok(batch)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        for batch in held {
            if tx.send(Ok(batch)).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// The `DoGet` ticket of this group's fragment.
    fn ticket(&self) -> Result<Vec<u8>> {
        let plan = with_splits(&self.fragment, self.group.splits.clone())?;
        let codec = SplitScanCodec { exec: self.exec.clone() };
        let bytes = physical_plan_to_bytes_with_extension_codec(plan, &codec)?;
        let fragment = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(FragmentTicket { fragment }.to_bytes())
    }

    /// A remote batch under this plan's schema (the sender's may differ in metadata).
    fn ours(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        RecordBatch::try_new_with_options(self.schema.clone(), batch.columns().to_vec(), &options)
            .map_err(|e| CacheError::internal(format!("an owner's partial aggregate has another schema: {e}")))
    }
}

impl Executor {
    /// Runs a fragment another node sent (a [`FragmentTicket`]) over the
    /// splits it names, reading them locally.
    pub(crate) fn run_fragment(
        self: &Arc<Self>,
        ticket: &FragmentTicket,
    ) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&ticket.fragment)
            .map_err(|e| CacheError::invalid(format!("malformed fragment ticket: not base64: {e}")))?;
        let context = SqlEngine::new(self.clone()).session().task_ctx();
        let codec = SplitScanCodec { exec: self.clone() };
        let plan = physical_plan_from_bytes_with_extension_codec(&bytes, &context, &codec)
            .map_err(|e| CacheError::invalid(format!("malformed fragment ticket: {e}")))?;
        if !is_fragment(&plan) {
            let shown = displayable(plan.as_ref()).indent(false).to_string();
            return Err(CacheError::invalid(format!(
                "a fragment ticket may only hold a partial aggregate over filters and projections of a split scan, not:\n{shown}"
            )));
        }
        let schema = plan.schema();
        let stream = execute_stream(plan, context)?.map(|r| r.map_err(CacheError::from));
        Ok((schema, stream.boxed()))
    }
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::aggregates::PhysicalGroupBy;
    use datafusion::physical_plan::empty::EmptyExec;

    use super::*;

    fn partial_over(input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let schema = input.schema();
        Arc::new(
            AggregateExec::try_new(AggregateMode::Partial, PhysicalGroupBy::default(), vec![], vec![], input, schema)
                .unwrap(),
        )
    }

    #[test]
    fn only_partial_aggregates_over_split_scans_are_fragments() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let empty: Arc<dyn ExecutionPlan> = Arc::new(EmptyExec::new(schema));
        // Any other leaf (a file scan, say) is refused: a ticket must not read what it likes.
        assert!(!is_fragment(&empty));
        assert!(!is_fragment(&partial_over(empty.clone())));
        assert!(leaf_scan(&partial_over(empty)).is_none());
    }
}
