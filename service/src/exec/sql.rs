//! SQL over the cached tables: DataFusion with every catalog table as a
//! `TableProvider` whose scans run through the cache.
//!
//! Filters DataFusion pushes into a scan are applied exactly by the split reader
//! (and used for Iceberg and row-group pruning), so they are reported as
//! `Exact` and not evaluated twice. Each query reads the snapshot its tables had
//! when it was planned.
//!
//! In a cluster each split is one DataFusion partition ([`SplitScanExec`]) read
//! from the split's owners over Flight, with the projection and the filters
//! (datafusion-proto) in the ticket, so only matching rows cross the network;
//! partial aggregates over such scans run on the owners themselves
//! ([`PartialAggregatesOnOwners`]), so only partial states do.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::TableType;
use datafusion::error::Result as DfResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::prelude::{SessionConfig, SessionContext};

use arrow_cache_protocol::scan::{ScanTicket, SnapshotSelector};

use super::Executor;
use super::fragment::PartialAggregatesOnOwners;
use super::scan::encode_sql_filter;
use super::split_scan::{RoutedSplit, SplitScanExec};
use crate::error::{CacheError, Result};
use crate::plan::ResolvedTable;
use crate::read::ScanSpec;

/// Runs SQL against the node's tables.
#[derive(Clone)]
pub(crate) struct SqlEngine {
    exec: Arc<Executor>,
}

impl SqlEngine {
    pub(crate) fn new(exec: Arc<Executor>) -> Self {
        Self { exec }
    }

    /// A fresh DataFusion session whose default catalog is the node's Iceberg catalog.
    pub(crate) fn session(&self) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
            .with_information_schema(false);
        let mut state = SessionStateBuilder::new().with_config(config).with_default_features();
        if self.exec.cluster().is_some() {
            state = state.with_physical_optimizer_rule(Arc::new(PartialAggregatesOnOwners));
        }
        let ctx = SessionContext::new_with_state(state.build());
        let catalog = Arc::new(IcebergCatalog { exec: self.exec.clone() });
        ctx.register_catalog(Self::catalog_name(), catalog);
        ctx
    }

    /// `resolved` as a DataFusion table (scans routed to the splits' owners).
    pub(crate) fn table(&self, resolved: ResolvedTable) -> Arc<dyn TableProvider> {
        Arc::new(IcebergTable { exec: self.exec.clone(), resolved })
    }

    /// The name SQL and Flight SQL clients see the node's catalog under (DataFusion's default).
    pub(crate) fn catalog_name() -> String {
        SessionConfig::new().options().catalog.default_catalog.clone()
    }

    /// Plans `sql`; the stream runs it.
    pub(crate) async fn execute(&self, sql: &str) -> Result<(SchemaRef, SendableRecordBatchStream)> {
        let ctx = self.session();
        let df = ctx.sql(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let stream = df.execute_stream().await?;
        Ok((schema, stream))
    }

    /// The schema `sql` would return, without running it.
    pub(crate) async fn schema_of(&self, sql: &str) -> Result<SchemaRef> {
        let df = self.session().sql(sql).await?;
        Ok(Arc::new(df.schema().as_arrow().clone()))
    }
}

/// The node's catalog as DataFusion sees it: one schema per namespace.
#[derive(Debug)]
struct IcebergCatalog {
    exec: Arc<Executor>,
}

impl CatalogProvider for IcebergCatalog {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema_names(&self) -> Vec<String> {
        // DataFusion asks synchronously; namespaces are resolved lazily in `schema`.
        vec![]
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        Some(Arc::new(Namespace { exec: self.exec.clone(), name: name.to_string() }))
    }
}

#[derive(Debug)]
struct Namespace {
    exec: Arc<Executor>,
    name: String,
}

#[async_trait]
impl SchemaProvider for Namespace {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn table_names(&self) -> Vec<String> {
        vec![]
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let full = format!("{}.{}", self.name, name);
        match self.exec.planner.resolve(&full, SnapshotSelector::Current).await {
            Ok(resolved) => Ok(Some(Arc::new(IcebergTable { exec: self.exec.clone(), resolved }))),
            Err(CacheError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn table_exist(&self, _name: &str) -> bool {
        true
    }
}

/// One Iceberg table at one snapshot.
#[derive(Debug)]
pub(crate) struct IcebergTable {
    exec: Arc<Executor>,
    resolved: ResolvedTable,
}

#[async_trait]
impl TableProvider for IcebergTable {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn schema(&self) -> SchemaRef {
        self.resolved.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if evaluable(f) { TableProviderFilterPushDown::Exact } else { TableProviderFilterPushDown::Unsupported }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = self.resolved.schema.clone();
        let projection = projection.cloned().unwrap_or_else(|| (0..schema.fields().len()).collect());
        let spec = ScanSpec::new(&self.resolved.name, schema, projection, filters, limit)?;
        let parts = self.exec.planner.plan(&self.resolved, filters).await?;
        let out = spec.output_schema();
        let splits = self.exec.place(&self.resolved.name, parts, false);
        if splits.is_empty() {
            return Ok(Arc::new(EmptyExec::new(out)));
        }
        let columns: Vec<String> = out.fields().iter().map(|f| f.name().clone()).collect();
        let sql_filter = encode_sql_filter(filters)?;
        let splits = splits
            .into_iter()
            .map(|(split, owners)| RoutedSplit {
                ticket: ScanTicket {
                    table: self.resolved.name.clone(),
                    snapshot_id: self.resolved.snapshot_id(),
                    schema_id: Some(self.resolved.schema_id()),
                    columns: columns.clone(),
                    filter: None,
                    sql_filter: sql_filter.clone(),
                    limit,
                    aggregate: None,
                    order_by: None,
                    split,
                },
                owners,
            })
            .collect();
        let shown = conjunction(filters.iter().cloned()).map(|f| f.to_string());
        Ok(Arc::new(SplitScanExec::new(self.exec.clone(), out, splits, shown)))
    }
}

/// A filter the split reader can evaluate row by row: no subqueries, no outer references.
fn evaluable(expr: &Expr) -> bool {
    let mut ok = true;
    let _ = expr.apply(|e| {
        if matches!(
            e,
            Expr::ScalarSubquery(_)
                | Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::OuterReferenceColumn(..)
                | Expr::Placeholder(_)
        ) {
            ok = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    ok
}
