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
use arrow_cache_protocol::scan::{
    AggregateMode, FilePart, Pushed, ScanMetadata, ScanRequest, ScanTicket, SnapshotSelector, Split,
};
use base64::Engine;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion_proto::bytes::Serializeable;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::sql::SqlEngine;
use super::{Executor, pushdown};
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
    /// Set when the answer is one stream computed over all splits (a `final`
    /// aggregate): the request itself is then the one ticket.
    pub whole: Option<ScanRequest>,
    /// What the cache applies beyond filters and projections.
    pub pushed: Option<Pushed>,
}

/// One endpoint of a planned scan: its ticket and where to read it.
pub(crate) struct Endpoint {
    pub(crate) ticket: Vec<u8>,
    /// Owners, primary first; empty: the planning node.
    pub(crate) owners: Vec<MemberInfo>,
    pub(crate) bytes: u64,
    pub(crate) rows: Option<u64>,
}

impl PlannedScan {
    /// What the scan reads, for its `FlightInfo.app_metadata`.
    pub(crate) fn metadata(&self) -> ScanMetadata {
        ScanMetadata { snapshot_id: self.snapshot_id, schema_id: self.schema_id, pushed: self.pushed.clone() }
    }

    /// The scan's endpoints: one per split, or one for a whole-scan answer.
    pub(crate) fn endpoints(&self) -> Vec<Endpoint> {
        if let Some(request) = &self.whole {
            let ticket = serde_json::to_vec(request).expect("a scan request is plain JSON");
            return vec![Endpoint { ticket, owners: vec![], bytes: self.total_bytes, rows: None }];
        }
        let per_split_rows = self.pushed.is_none();
        self.splits
            .iter()
            .map(|s| Endpoint {
                ticket: s.ticket.to_bytes(),
                owners: s.owners.clone(),
                bytes: s.ticket.split.bytes(),
                rows: s.ticket.split.rows().filter(|_| per_split_rows),
            })
            .collect()
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
        request.check()?;
        if request.aggregate.is_some() && request.columns.is_some() {
            return Err(CacheError::invalid(
                "columns: leave it out with aggregate (the result columns are the group-by terms, then the functions)",
            ));
        }
        let resolved = self.planner.resolve(&request.table, request.snapshot()?).await?;
        let filters = parse_filter(&resolved, request.filter.as_ref())?;
        // An aggregate reads the columns it names; rows are limited after it or after the sort.
        let beyond = request.aggregate.is_some() || request.order_by.is_some();
        let columns = pushdown::aggregate_inputs(request.aggregate.as_ref()).or_else(|| request.columns.clone());
        let scan_limit = if beyond { None } else { request.limit };
        let spec = self.scan_spec(&resolved, columns, &filters, scan_limit)?;
        let mut split_bytes = self.planner.split_bytes();
        let mut parts = self.planner.plan(&resolved, &filters).await?;
        if let Some(target) = request.target_splits {
            let total: u64 = parts.iter().map(|p| p.bytes).sum();
            let wanted = total.div_ceil(target as u64).max(1);
            if self.planner.pack(parts.clone()).len() < target && wanted < split_bytes {
                split_bytes = wanted;
                parts = self.planner.plan_sized(&resolved, &filters, split_bytes).await?;
            }
        }
        let splits = self.place_sized(&resolved.name, parts, scan_limit.is_some(), split_bytes);
        let total_bytes = splits.iter().map(|(s, _)| s.bytes()).sum();
        let total_rows = match (&request.filter, request.limit, beyond) {
            (None, None, false) => splits.iter().map(|(s, _)| s.rows()).sum(),
            _ => None,
        };
        let scanned = spec.output_schema();
        let order_by = request.order_by.as_deref();
        let schema = pushdown::output_schema(scanned.clone(), request.aggregate.as_ref(), order_by)?;
        let whole = request.aggregate.as_ref().is_some_and(|a| a.mode == AggregateMode::Final);
        let pushed = beyond.then(|| Pushed {
            aggregate: request.aggregate.as_ref().map(|a| a.mode),
            order_by: request.order_by.is_some(),
            limit: request.limit.is_some(),
            splits: if whole { 1 } else { splits.len() },
        });
        let columns: Vec<String> = scanned.fields().iter().map(|f| f.name().clone()).collect();
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
                    aggregate: request.aggregate.clone(),
                    order_by: request.order_by.clone(),
                    split,
                },
                owners,
            })
            .collect();
        Ok(PlannedScan {
            schema,
            splits,
            total_rows,
            total_bytes,
            snapshot_id: resolved.snapshot_id(),
            schema_id: resolved.schema_id(),
            whole: whole.then(|| request.clone()),
            pushed,
        })
    }

    /// Answers a `final` aggregate over the whole scan: DataFusion over the
    /// table at the request's snapshot, with the partial aggregates run on the
    /// splits' owners as for SQL.
    pub(crate) async fn run_whole(
        self: &Arc<Self>,
        request: &ScanRequest,
    ) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        request.check()?;
        let resolved = self.planner.resolve(&request.table, request.snapshot()?).await?;
        let filters = parse_filter(&resolved, request.filter.as_ref())?;
        let engine = SqlEngine::new(self.clone());
        let ctx = engine.session();
        let mut df = ctx.read_table(engine.table(resolved))?;
        for filter in filters {
            df = df.filter(filter)?;
        }
        let df = pushdown::apply(df, request.aggregate.as_ref(), request.order_by.as_deref(), request.limit)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let stream = df.execute_stream().await?.map_err(CacheError::from).boxed();
        Ok((schema, stream))
    }

    /// Packs file parts into splits, each with its owners (primary first).
    /// `one_stream`: a limit is cheapest read front to back by one stream.
    pub fn place(&self, table: &str, parts: Vec<FilePart>, one_stream: bool) -> Vec<(Split, Vec<MemberInfo>)> {
        self.place_sized(table, parts, one_stream, self.planner.split_bytes())
    }

    /// [`Executor::place`] into splits of about `split_bytes`.
    fn place_sized(
        &self,
        table: &str,
        parts: Vec<FilePart>,
        one_stream: bool,
        split_bytes: u64,
    ) -> Vec<(Split, Vec<MemberInfo>)> {
        let Some(cluster) = self.cluster() else {
            let splits = if one_stream { vec![Split { parts }] } else { self.planner.pack_sized(parts, split_bytes) };
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
            .flat_map(|(owners, parts)| {
                self.planner.pack_sized(parts, split_bytes).into_iter().map(move |s| (s, owners.clone()))
            })
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
        let beyond = ticket.aggregate.is_some() || ticket.order_by.is_some();
        let scan_limit = if beyond { None } else { ticket.limit };
        let spec = Arc::new(self.scan_spec(&resolved, Some(ticket.columns), &filters, scan_limit)?);
        let (schema, rows) = (spec.output_schema(), self.reader.read(spec, ticket.split));
        if !beyond {
            return Ok((schema, rows));
        }
        let rows = Box::pin(RecordBatchStreamAdapter::new(schema.clone(), rows.map_err(DataFusionError::from)));
        let (schema, out) =
            pushdown::over_stream(schema, rows, ticket.aggregate.as_ref(), ticket.order_by.as_deref(), ticket.limit)
                .await?;
        Ok((schema, out.map_err(CacheError::from).boxed()))
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
