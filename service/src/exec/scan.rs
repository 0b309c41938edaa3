//! Scan requests: planned by `GetFlightInfo`, one ticket per split, read by `DoGet`.
//!
//! A ticket carries everything needed to read its split (snapshot, columns,
//! filter, the split's files and delete files), so any node can serve it
//! without remembering the plan, and a client can retry it elsewhere.
//!
//! Splits are cut per owner: the planned file parts are grouped by the nodes
//! that own them (placement), then packed into splits of about `split_size`,
//! so each endpoint lists exactly its split's owners, primary first.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_cache_protocol::scan::{FilePart, ScanMetadata, ScanRequest, ScanTicket, SnapshotSelector, Split};
use base64::Engine;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::prelude::SessionContext;
use datafusion_proto::bytes::Serializeable;
use futures::stream::BoxStream;

use super::Executor;
use crate::cluster::MemberInfo;
use crate::error::{CacheError, Result};
use crate::plan::ResolvedTable;
use crate::plan::filter::parse_iceberg_json;
use crate::read::ScanSpec;

/// One split of a planned scan and the nodes that own it, primary first.
pub struct PlannedSplit {
    pub ticket: ScanTicket,
    pub owners: Vec<MemberInfo>,
}

/// A planned scan: the output schema and one ticket per split.
pub struct PlannedScan {
    pub schema: SchemaRef,
    pub splits: Vec<PlannedSplit>,
    pub total_rows: Option<u64>,
    pub total_bytes: u64,
    pub snapshot_id: Option<i64>,
    pub schema_id: i32,
}

impl PlannedScan {
    /// What the scan reads, for its `FlightInfo.app_metadata`.
    pub(crate) fn metadata(&self) -> ScanMetadata {
        ScanMetadata { snapshot_id: self.snapshot_id, schema_id: self.schema_id }
    }
}

/// Encodes DataFusion filters for a ticket (see [`ScanTicket::sql_filter`]).
pub fn encode_sql_filter(filters: &[Expr]) -> Result<Option<String>> {
    let Some(expr) = conjunction(filters.iter().cloned()) else { return Ok(None) };
    let bytes = expr.to_bytes().map_err(|e| CacheError::internal(format!("encoding filter `{expr}`: {e}")))?;
    Ok(Some(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

fn decode_sql_filter(text: &str) -> Result<Expr> {
    // The functions a filter may call (isnan, starts_with, ...) by name.
    static FUNCTIONS: LazyLock<SessionContext> = LazyLock::new(SessionContext::new);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| CacheError::invalid(format!("malformed ticket: sql_filter is not base64: {e}")))?;
    Expr::from_bytes_with_registry(&bytes, &*FUNCTIONS)
        .map_err(|e| CacheError::invalid(format!("malformed ticket: sql_filter: {e}")))
}

impl Executor {
    /// Plans a scan request into split tickets.
    pub async fn plan_scan(&self, request: &ScanRequest) -> Result<PlannedScan> {
        let resolved = self.planner.resolve(&request.table, request.snapshot()?).await?;
        let filters = parse_filter(&resolved, request.filter.as_ref())?;
        let spec = self.scan_spec(&resolved, request.columns.clone(), &filters, request.limit)?;
        let parts = self.planner.plan(&resolved, &filters).await?;
        let splits = self.place(&resolved.name, parts, request.limit.is_some());
        let total_bytes = splits.iter().map(|(s, _)| s.bytes()).sum();
        let total_rows = match (&request.filter, request.limit) {
            (None, None) => splits.iter().map(|(s, _)| s.rows()).sum(),
            _ => None,
        };
        let columns: Vec<String> = spec.output_schema().fields().iter().map(|f| f.name().clone()).collect();
        let splits = splits
            .into_iter()
            .map(|(split, owners)| PlannedSplit {
                ticket: ScanTicket {
                    table: resolved.name.clone(),
                    snapshot_id: resolved.snapshot_id(),
                    schema_id: Some(resolved.schema_id()),
                    columns: columns.clone(),
                    filter: request.filter.clone(),
                    sql_filter: None,
                    limit: request.limit,
                    split,
                },
                owners,
            })
            .collect();
        Ok(PlannedScan {
            schema: spec.output_schema(),
            splits,
            total_rows,
            total_bytes,
            snapshot_id: resolved.snapshot_id(),
            schema_id: resolved.schema_id(),
        })
    }

    /// Packs file parts into splits, each with its owners (primary first).
    /// `one_stream`: a limit is cheapest read front to back by one stream.
    pub fn place(&self, table: &str, parts: Vec<FilePart>, one_stream: bool) -> Vec<(Split, Vec<MemberInfo>)> {
        let Some(cluster) = self.cluster() else {
            let splits = if one_stream { vec![Split { parts }] } else { self.planner.pack(parts) };
            return splits.into_iter().filter(|s| !s.parts.is_empty()).map(|s| (s, vec![])).collect();
        };
        let placement = cluster.placement();
        if one_stream {
            let owners = parts.first().map(|p| cluster.owners(&placement, table, p)).unwrap_or_default();
            return if parts.is_empty() { vec![] } else { vec![(Split { parts }, owners)] };
        }
        // Group by owner list, keeping the planner's order within each group.
        let mut groups: BTreeMap<Vec<String>, (Vec<MemberInfo>, Vec<FilePart>)> = BTreeMap::new();
        for part in parts {
            let owners = cluster.owners(&placement, table, &part);
            let key = owners.iter().map(|m| m.node_id.clone()).collect();
            groups.entry(key).or_insert_with(|| (owners, vec![])).1.push(part);
        }
        groups
            .into_values()
            .flat_map(|(owners, parts)| self.planner.pack(parts).into_iter().map(move |s| (s, owners.clone())))
            .collect()
    }

    /// Reads one split of a planned scan.
    pub async fn read_ticket(
        &self,
        ticket: ScanTicket,
    ) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let selector = match ticket.snapshot_id {
            Some(id) => SnapshotSelector::Id(id),
            None => SnapshotSelector::Current,
        };
        let resolved = self.planner.resolve_with_schema(&ticket.table, selector, ticket.schema_id).await?;
        if ticket.snapshot_id.is_none() {
            // The table had no snapshot when planned: it had no rows.
            let spec = self.scan_spec(&resolved, Some(ticket.columns), &[], None)?;
            return Ok((spec.output_schema(), Box::pin(futures::stream::empty())));
        }
        let mut filters = parse_filter(&resolved, ticket.filter.as_ref())?;
        if let Some(text) = &ticket.sql_filter {
            filters.push(decode_sql_filter(text)?);
        }
        let spec = Arc::new(self.scan_spec(&resolved, Some(ticket.columns), &filters, ticket.limit)?);
        Ok((spec.output_schema(), self.reader.read(spec, ticket.split)))
    }

    pub fn scan_spec(
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
                        CacheError::invalid(format!(
                            "column `{c}` does not exist in `{}`; columns are {names:?}",
                            resolved.name
                        ))
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
