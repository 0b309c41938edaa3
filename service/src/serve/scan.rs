//! Scan requests: planned by `GetFlightInfo`, one ticket per split, read by `DoGet`.
//!
//! A ticket carries everything needed to read its split (snapshot, columns,
//! filter, the split's files and delete files), so any node can serve it
//! without remembering the plan, and a client can retry it elsewhere.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::logical_expr::Expr;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::error::{CacheError, Result};
use crate::node::Node;
use crate::plan::filter::parse_iceberg_json;
use crate::plan::{ResolvedTable, ScanRequest, SnapshotSelector, Split};
use crate::read::ScanSpec;

/// The `DoGet` ticket of one split of a scan request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanTicket {
    pub table: String,
    pub snapshot_id: Option<i64>,
    pub columns: Vec<String>,
    #[serde(default)]
    pub filter: Option<serde_json::Value>,
    #[serde(default)]
    pub limit: Option<usize>,
    pub split: Split,
}

/// A planned scan: the output schema and one ticket per split.
pub struct PlannedScan {
    pub schema: SchemaRef,
    pub tickets: Vec<ScanTicket>,
    pub total_rows: Option<u64>,
    pub total_bytes: u64,
}

impl Node {
    /// Plans a scan request into split tickets.
    pub async fn plan_scan(&self, request: &ScanRequest) -> Result<PlannedScan> {
        let resolved = self.planner.resolve(&request.table, request.snapshot()?).await?;
        let filters = parse_filter(&resolved, request.filter.as_ref())?;
        let spec = self.scan_spec(&resolved, request.columns.clone(), &filters, request.limit)?;
        let mut splits = self.planner.plan(&resolved, &filters).await?;
        // A limit is cheapest read front to back by one stream.
        if request.limit.is_some() && splits.len() > 1 {
            splits = vec![Split { parts: splits.into_iter().flat_map(|s| s.parts).collect() }];
        }
        let total_bytes = splits.iter().map(Split::bytes).sum();
        let total_rows = match (&request.filter, request.limit) {
            (None, None) => splits.iter().map(Split::rows).sum(),
            _ => None,
        };
        let columns: Vec<String> = spec.output_schema().fields().iter().map(|f| f.name().clone()).collect();
        let tickets = splits
            .into_iter()
            .map(|split| ScanTicket {
                table: resolved.name.clone(),
                snapshot_id: resolved.snapshot_id(),
                columns: columns.clone(),
                filter: request.filter.clone(),
                limit: request.limit,
                split,
            })
            .collect();
        Ok(PlannedScan { schema: spec.output_schema(), tickets, total_rows, total_bytes })
    }

    /// Reads one split of a planned scan.
    pub async fn read_ticket(&self, ticket: ScanTicket) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let selector = match ticket.snapshot_id {
            Some(id) => SnapshotSelector::Id(id),
            None => SnapshotSelector::Current,
        };
        let resolved = self.planner.resolve(&ticket.table, selector).await?;
        if ticket.snapshot_id.is_none() {
            // The table had no snapshot when planned: it had no rows.
            let spec = self.scan_spec(&resolved, Some(ticket.columns), &[], None)?;
            return Ok((spec.output_schema(), Box::pin(futures::stream::empty())));
        }
        let filters = parse_filter(&resolved, ticket.filter.as_ref())?;
        let spec = Arc::new(self.scan_spec(&resolved, Some(ticket.columns), &filters, ticket.limit)?);
        Ok((spec.output_schema(), self.reader.read(spec, ticket.split)))
    }

    fn scan_spec(
        &self,
        resolved: &ResolvedTable,
        columns: Option<Vec<String>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<ScanSpec> {
        let schema = &resolved.schema;
        let projection = match columns {
            None => (0..schema.fields().len()).collect(),
            Some(cols) => cols
                .iter()
                .map(|c| {
                    schema.index_of(c).map_err(|_| {
                        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                        CacheError::invalid(format!("column `{c}` does not exist in `{}`; columns are {names:?}", resolved.name))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        };
        ScanSpec::new(&resolved.name, schema.clone(), projection, filters, limit)
    }
}

/// The request's Iceberg expression, typed by the table's columns.
fn parse_filter(resolved: &ResolvedTable, filter: Option<&serde_json::Value>) -> Result<Vec<Expr>> {
    filter.iter().map(|f| parse_iceberg_json(f, &resolved.schema)).collect()
}
