//! Scan planning: from a table, a snapshot and filters to splits.
//!
//! Iceberg metadata does the coarse work (partition pruning through the
//! manifest list, manifest and per-file metrics pruning, matching delete files
//! to data files); this module picks the snapshot, translates the filters for
//! it, and cuts the surviving files into [`Split`]s of about
//! `caching.split_size` Parquet bytes: small files are grouped, large files are
//! cut into ranges of row groups. A split is what one Flight endpoint streams.

pub mod filter;

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow_cache_protocol::scan::{DeleteFile, FilePart, SnapshotSelector, Split};
use datafusion::logical_expr::Expr;
use futures::TryStreamExt;
use iceberg::expr::Predicate;
use iceberg::scan::FileScanTask;
use iceberg::spec::{
    DataContentType, PrimitiveType, Schema as IcebergSchema, SchemaRef as IcebergSchemaRef, SnapshotRef, Type,
};
use iceberg::table::Table;

use crate::cache::Owner;
use crate::catalog::TableRegistry;
use crate::error::{CacheError, Result};
use crate::load::{FileRef, Loader};

/// A table at one snapshot, ready to plan or read.
#[derive(Debug, Clone)]
pub struct ResolvedTable {
    pub name: String,
    pub table: Table,
    /// `None` for a table that has no snapshot yet (no data).
    pub snapshot: Option<SnapshotRef>,
    pub iceberg_schema: IcebergSchemaRef,
    /// The schema read, as Arrow, with field ids in the field metadata.
    pub schema: SchemaRef,
}

impl ResolvedTable {
    pub fn snapshot_id(&self) -> Option<i64> {
        self.snapshot.as_ref().map(|s| s.snapshot_id())
    }

    pub fn schema_id(&self) -> i32 {
        self.iceberg_schema.schema_id()
    }
}

/// An Iceberg schema as Arrow (iceberg-rust's mapping, field ids in the field
/// metadata), with top-level uuid columns tagged as Arrow's canonical
/// `arrow.uuid` extension: their storage, 16-byte fixed binary, is the same as
/// `fixed[16]`'s, and clients (Spark, Trino, pyarrow) need to tell them apart.
fn arrow_schema(schema: &IcebergSchema) -> iceberg::Result<SchemaRef> {
    let arrow = iceberg::arrow::schema_to_arrow_schema(schema)?;
    let fields: Vec<Field> = arrow
        .fields()
        .iter()
        .zip(schema.as_struct().fields())
        .map(|(field, iceberg)| {
            if *iceberg.field_type != Type::Primitive(PrimitiveType::Uuid) {
                return field.as_ref().clone();
            }
            let mut metadata = field.metadata().clone();
            metadata.insert("ARROW:extension:name".into(), "arrow.uuid".into());
            metadata.insert("ARROW:extension:metadata".into(), String::new());
            field.as_ref().clone().with_metadata(metadata)
        })
        .collect();
    Ok(Arc::new(Schema::new_with_metadata(fields, arrow.metadata().clone())))
}

/// Columns whose type some older schema of the table had narrower (int before
/// long, float before double, a smaller decimal).
fn promoted_columns(resolved: &ResolvedTable) -> Vec<String> {
    let metadata = resolved.table.metadata();
    resolved
        .iceberg_schema
        .as_struct()
        .fields()
        .iter()
        .filter(|f| {
            metadata.schemas_iter().any(|old| old.field_by_id(f.id).is_some_and(|o| o.field_type != f.field_type))
        })
        .map(|f| f.name.clone())
        .collect()
}

/// A data file's partition as a path (`k=v/k2=v2`), for per-partition stats,
/// warming and invalidation. iceberg-rust 0.10 plans files without their
/// partition spec, so the spec is found by shape: the task's own when given,
/// else the default spec, else the first older spec whose fields match.
fn partition_path(resolved: &ResolvedTable, data: &iceberg::spec::Struct, task: &FileScanTask) -> String {
    let metadata = resolved.table.metadata();
    let candidates = task
        .partition_spec
        .iter()
        .chain(std::iter::once(metadata.default_partition_spec()))
        .chain(metadata.partition_specs_iter());
    for spec in candidates {
        let fits = spec.fields().len() == data.fields().len()
            && spec.partition_type(&task.schema).is_ok_and(|t| {
                t.fields().iter().zip(data.iter()).all(|(f, v)| match (v, f.field_type.as_primitive_type()) {
                    (None, _) => true,
                    (Some(lit), Some(ty)) => lit.as_primitive_literal().is_some_and(|p| ty.compatible(&p)),
                    _ => false,
                })
            });
        if fits && !spec.fields().is_empty() {
            return spec.partition_to_path(data, task.schema.clone());
        }
    }
    String::new()
}

/// Resolves snapshots and plans splits; see the module docs.
pub struct Planner {
    pub registry: Arc<TableRegistry>,
    loader: Arc<Loader>,
    split_bytes: u64,
}

impl Planner {
    /// Splits of about `split_bytes` unless a request asks for more splits.
    pub fn split_bytes(&self) -> u64 {
        self.split_bytes
    }

    pub fn new(registry: Arc<TableRegistry>, loader: Arc<Loader>, split_bytes: u64) -> Self {
        Self { registry, loader, split_bytes }
    }

    /// The table at the selected snapshot, with that snapshot's schema.
    pub async fn resolve(&self, name: &str, selector: SnapshotSelector) -> Result<ResolvedTable> {
        self.resolve_with_schema(name, selector, None).await
    }

    /// Resolves `selector`, read with schema `schema_id` when given (a ticket
    /// carries the schema its plan used, which may be newer than its snapshot's).
    pub async fn resolve_with_schema(
        &self,
        name: &str,
        selector: SnapshotSelector,
        schema_id: Option<i32>,
    ) -> Result<ResolvedTable> {
        let mut table = self.registry.table(name).await?;
        // Another node may have planned on metadata newer than ours.
        let unknown_snapshot =
            matches!(selector, SnapshotSelector::Id(id) if table.metadata().snapshot_by_id(id).is_none());
        let unknown_schema = schema_id.is_some_and(|id| table.metadata().schema_by_id(id).is_none());
        if unknown_snapshot || unknown_schema {
            table = self.registry.refresh(name).await?;
        }
        let metadata = table.metadata();
        let snapshot = match &selector {
            SnapshotSelector::Current => metadata.current_snapshot().cloned(),
            SnapshotSelector::Id(id) => Some(
                metadata
                    .snapshot_by_id(*id)
                    .ok_or_else(|| CacheError::not_found(format!("table `{name}` has no snapshot {id}")))?
                    .clone(),
            ),
            SnapshotSelector::AsOf(ts) => {
                let id = metadata
                    .history()
                    .iter()
                    .filter(|entry| entry.timestamp_ms <= *ts)
                    .max_by_key(|entry| entry.timestamp_ms)
                    .map(|entry| entry.snapshot_id)
                    .ok_or_else(|| CacheError::not_found(format!("table `{name}` had no snapshot at {ts} ms")))?;
                Some(metadata.snapshot_by_id(id).cloned().ok_or_else(|| {
                    CacheError::not_found(format!("table `{name}`: snapshot {id} from the history has expired"))
                })?)
            }
            // iceberg-rust does not expose a ref's kind: a name resolves as either.
            SnapshotSelector::Branch(r) | SnapshotSelector::Tag(r) => Some(
                metadata
                    .snapshot_for_ref(r)
                    .ok_or_else(|| CacheError::not_found(format!("table `{name}` has no branch or tag `{r}`")))?
                    .clone(),
            ),
        };
        let iceberg_schema = match (schema_id, &snapshot) {
            (Some(id), _) => metadata
                .schema_by_id(id)
                .cloned()
                .ok_or_else(|| CacheError::not_found(format!("table `{name}` has no schema {id}")))?,
            (None, Some(s)) if !selector.reads_current_schema() => {
                s.schema(metadata).map_err(|e| CacheError::from_iceberg(format!("schema of `{name}`"), e))?
            }
            _ => metadata.current_schema().clone(),
        };
        let schema = arrow_schema(&iceberg_schema)
            .map_err(|e| CacheError::from_iceberg(format!("Arrow schema of `{name}`"), e))?;
        Ok(ResolvedTable { name: name.to_string(), table, snapshot, iceberg_schema, schema })
    }

    /// The file parts a scan with `filters` must read: whole files, and large
    /// files cut into ranges of row groups. [`Planner::pack`] makes splits of them.
    pub async fn plan(&self, resolved: &ResolvedTable, filters: &[Expr]) -> Result<Vec<FilePart>> {
        self.plan_sized(resolved, filters, self.split_bytes).await
    }

    /// [`Planner::plan`] for splits of about `split_bytes` (a request's `target_splits`).
    pub async fn plan_sized(
        &self,
        resolved: &ResolvedTable,
        filters: &[Expr],
        split_bytes: u64,
    ) -> Result<Vec<FilePart>> {
        let Some(snapshot) = &resolved.snapshot else { return Ok(vec![]) };
        let predicate = filter::to_iceberg_predicate(filters, &resolved.schema, &promoted_columns(resolved));
        let tasks = match self.plan_files(resolved, snapshot.snapshot_id(), predicate.clone()).await {
            // A literal Iceberg cannot bind to the column type only loses pruning.
            Err(CacheError::InvalidArgument(m)) if predicate != Predicate::AlwaysTrue => {
                tracing::debug!(table = %resolved.name, "planning without pruning predicate: {m}");
                self.plan_files(resolved, snapshot.snapshot_id(), Predicate::AlwaysTrue).await?
            }
            other => other?,
        };
        self.cut(resolved, tasks, split_bytes).await
    }

    async fn plan_files(
        &self,
        resolved: &ResolvedTable,
        snapshot_id: i64,
        predicate: Predicate,
    ) -> Result<Vec<FileScanTask>> {
        let context = format!("planning a scan of `{}`", resolved.name);
        let scan = resolved
            .table
            .scan()
            .snapshot_id(snapshot_id)
            .with_filter(predicate)
            .build()
            .map_err(|e| CacheError::from_iceberg(&context, e))?;
        let mut tasks: Vec<FileScanTask> = scan
            .plan_files()
            .await
            .map_err(|e| CacheError::from_iceberg(&context, e))?
            .try_collect()
            .await
            .map_err(|e| CacheError::from_iceberg(&context, e))?;
        tasks.sort_by(|a, b| a.data_file_path.cmp(&b.data_file_path));
        Ok(tasks)
    }

    /// Groups consecutive small parts into splits of about `split_size` bytes;
    /// a range of a large file is a split of its own.
    pub fn pack(&self, parts: Vec<FilePart>) -> Vec<Split> {
        self.pack_sized(parts, self.split_bytes)
    }

    /// [`Planner::pack`] into splits of about `split_bytes`.
    pub fn pack_sized(&self, parts: Vec<FilePart>, split_bytes: u64) -> Vec<Split> {
        let mut splits = Vec::new();
        let mut current = Split::default();
        for part in parts {
            if part.row_groups.is_some() {
                splits.push(Split { parts: vec![part] });
                continue;
            }
            if !current.parts.is_empty() && current.bytes() + part.bytes > split_bytes {
                splits.push(std::mem::take(&mut current));
            }
            current.parts.push(part);
        }
        if !current.parts.is_empty() {
            splits.push(current);
        }
        splits
    }

    /// Cuts files larger than `split_size` into ranges of row groups.
    async fn cut(&self, resolved: &ResolvedTable, tasks: Vec<FileScanTask>, split_bytes: u64) -> Result<Vec<FilePart>> {
        let mut parts = Vec::new();
        for task in tasks {
            let part = self.part(resolved, &task)?;
            if part.file_size <= split_bytes {
                parts.push(part);
                continue;
            }
            let owner = Owner::new(&resolved.name, &part.partition);
            let footer = self.loader.footer(&FileRef::from(&part), &owner).await?;
            let mut start = 0;
            let mut bytes = 0;
            let mut rows = 0;
            for rg in 0..footer.num_row_groups() {
                bytes += footer.row_group_bytes(rg);
                rows += footer.row_group_rows(rg) as u64;
                if bytes >= split_bytes || rg + 1 == footer.num_row_groups() {
                    parts.push(FilePart { row_groups: Some((start, rg + 1)), bytes, rows: Some(rows), ..part.clone() });
                    (start, bytes, rows) = (rg + 1, 0, 0);
                }
            }
        }
        Ok(parts)
    }

    fn part(&self, resolved: &ResolvedTable, task: &FileScanTask) -> Result<FilePart> {
        let deletes = task
            .deletes
            .iter()
            .map(|d| {
                if d.file_path.ends_with(".puffin") {
                    return Err(CacheError::Unsupported(format!(
                        "deletion vectors (Iceberg format v3, `{}`) in table `{}`",
                        d.file_path, resolved.name
                    )));
                }
                Ok(DeleteFile {
                    path: d.file_path.clone(),
                    file_size: d.file_size_in_bytes,
                    equality_ids: match d.file_type {
                        DataContentType::EqualityDeletes => Some(d.equality_ids.clone().unwrap_or_default()),
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let partition = match &task.partition {
            Some(data) => partition_path(resolved, data, task),
            None => String::new(),
        };
        Ok(FilePart {
            path: task.data_file_path.clone(),
            file_size: task.file_size_in_bytes,
            bytes: task.file_size_in_bytes,
            rows: task.record_count,
            partition,
            row_groups: None,
            deletes,
        })
    }
}
