//! Reading a split: cached columns in, filtered and projected batches out.
//!
//! For each row group of each file part: skip it if its statistics rule the
//! filter out; fetch the needed columns through the cache (loading what is
//! missing, one column chunk at a time, concurrently); drop deleted rows; keep
//! the rows where the filter is TRUE; project. With no filter and no deletes a
//! warm read is zero-copy: the batch is made of the cached arrays themselves.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, UInt64Array};
use arrow::compute::{and, filter_record_batch};
use arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column as DfColumn, DFSchema, ScalarValue};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};
use datafusion::physical_optimizer::pruning::PruningPredicate;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;

use crate::cache::Owner;
use crate::error::{CacheError, Result};
use crate::load::{DeleteSet, Footer, Loader, field_id_of};
use crate::load::deletes_kind;
use crate::plan::filter::prunable_conjuncts;
use crate::plan::{FilePart, Split};

/// What every split of one scan shares: columns, filter, limit.
pub struct ScanSpec {
    pub table: Arc<str>,
    /// The table's full schema at the scanned snapshot.
    pub schema: SchemaRef,
    /// Output columns, as indices into `schema`.
    pub projection: Vec<usize>,
    /// Columns read: the projection plus what the filter needs, in table order.
    needed_schema: SchemaRef,
    /// Positions of the output columns within `needed`.
    output: Vec<usize>,
    /// The filter's conjuncts, each evaluated on its own (see `read_row_group`).
    filters: Vec<Arc<dyn PhysicalExpr>>,
    pruning: Option<PruningPredicate>,
    pub limit: Option<usize>,
}

impl ScanSpec {
    /// Compiles `filters` (all of which must hold) against the table schema.
    pub fn new(table: &str, schema: SchemaRef, projection: Vec<usize>, filters: &[Expr], limit: Option<usize>) -> Result<Self> {
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let props = ExecutionProps::new();
        let mut needed: Vec<usize> = projection.clone();
        for f in filters {
            for c in f.column_refs() {
                let i = schema.index_of(&c.name).map_err(|_| CacheError::invalid(format!("unknown column `{}`", c.name)))?;
                needed.push(i);
            }
        }
        needed.sort_unstable();
        needed.dedup();
        let needed_schema = Arc::new(schema.project(&needed)?);
        let output = projection.iter().map(|p| needed.binary_search(p).expect("projection is needed")).collect();
        let needed_df = DFSchema::try_from(needed_schema.as_ref().clone())?;
        let conjuncts = filters
            .iter()
            .flat_map(split_conjunction)
            .map(|e| create_physical_expr(e, &needed_df, &props))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let pruning = match conjunction(prunable_conjuncts(filters, &schema)) {
            Some(e) => {
                let phys = create_physical_expr(&e, &df_schema, &props)?;
                // A filter the pruner cannot reason about just prunes nothing.
                PruningPredicate::try_new(phys, schema.clone()).ok().filter(|p| !p.always_true())
            }
            None => None,
        };
        Ok(Self { table: table.into(), schema, projection, needed_schema, output, filters: conjuncts, pruning, limit })
    }

    pub fn output_schema(&self) -> SchemaRef {
        Arc::new(self.needed_schema.project(&self.output).expect("output within needed"))
    }
}

/// Reads splits through the loader's caches.
#[derive(Clone)]
pub struct SplitReader {
    loader: Arc<Loader>,
}

impl SplitReader {
    pub fn new(loader: Arc<Loader>) -> Self {
        Self { loader }
    }

    /// The batches of `split`, filtered and projected by `spec`.
    pub fn read(&self, spec: Arc<ScanSpec>, split: Split) -> BoxStream<'static, Result<RecordBatch>> {
        let reader = self.clone();
        let limit = spec.limit.unwrap_or(usize::MAX);
        stream::iter(split.parts)
            .map(move |part| reader.clone().read_part(spec.clone(), part))
            .flatten()
            .try_filter(|b| futures::future::ready(b.num_rows() > 0))
            // Stop at the limit, cutting the last batch short.
            .scan(limit, |remaining, item| {
                let out = match item {
                    _ if *remaining == 0 => None,
                    Ok(b) => {
                        let n = b.num_rows().min(*remaining);
                        *remaining -= n;
                        Some(Ok(b.slice(0, n)))
                    }
                    Err(e) => Some(Err(e)),
                };
                futures::future::ready(out)
            })
            .boxed()
    }

    fn read_part(self, spec: Arc<ScanSpec>, part: FilePart) -> BoxStream<'static, Result<RecordBatch>> {
        let limit = spec.limit;
        stream::once(async move {
            let owner = Owner::new(&spec.table, &part.partition);
            let footer = self.loader.footer(&part.file(), &owner).await?;
            let deletes = self.load_deletes(&part, &owner).await?;
            let (first, end) = part.row_groups.unwrap_or((0, footer.num_row_groups()));
            let end = end.min(footer.num_row_groups());
            let keep = match &spec.pruning {
                Some(p) => p.prune(&RowGroupStats { footer: &footer, schema: &spec.schema, first, end })?,
                None => vec![true; end.saturating_sub(first)],
            };
            let groups: Vec<usize> = (first..end).zip(keep).filter(|(_, k)| *k).map(|(rg, _)| rg).collect();
            let ctx = Arc::new(PartContext { reader: self, spec, part, footer, deletes, owner });
            // Decode the next row group while the current one is sent.
            let prefetch = if limit.is_some() { 1 } else { 2 };
            Ok::<_, CacheError>(
                stream::iter(groups).map(move |rg| ctx.clone().read_row_group(rg)).buffered(prefetch),
            )
        })
        .try_flatten()
        .boxed()
    }

    async fn load_deletes(&self, part: &FilePart, owner: &Owner) -> Result<Vec<Arc<DeleteSet>>> {
        let loads = part.deletes.iter().map(|d| {
            let kind = deletes_kind(d.equality_ids.clone());
            let file = crate::load::FileRef { path: &d.path, size: d.file_size };
            async move { self.loader.deletes(&file, kind, owner).await }
        });
        futures::future::try_join_all(loads).await
    }
}

struct PartContext {
    reader: SplitReader,
    spec: Arc<ScanSpec>,
    part: FilePart,
    footer: Arc<Footer>,
    deletes: Vec<Arc<DeleteSet>>,
    owner: Owner,
}

impl PartContext {
    async fn column(&self, rg: usize, field: &FieldRef) -> Result<ArrayRef> {
        self.reader.loader.column(&self.part.file(), &self.footer, rg, field, &self.owner).await
    }

    async fn read_row_group(self: Arc<Self>, rg: usize) -> Result<RecordBatch> {
        let spec = &self.spec;
        let columns = futures::future::try_join_all(
            spec.needed_schema.fields().iter().map(|f| self.column(rg, f)),
        )
        .await?;
        // `count(*)` reads no column at all: the batch is just a row count.
        let options = RecordBatchOptions::new().with_row_count(Some(self.footer.row_group_rows(rg)));
        let batch = RecordBatch::try_new_with_options(spec.needed_schema.clone(), columns, &options)?;
        // Conjunct by conjunct, and-ing the masks: a DataFusion AND of a selective
        // conjunct copies every column down to its rows before evaluating the rest,
        // which costs more than evaluating each on the whole batch.
        let mut mask: Option<BooleanArray> = None;
        for f in &spec.filters {
            let m = to_mask(f.evaluate(&batch)?.into_array(batch.num_rows())?)?;
            let m = match mask {
                Some(prev) => and(&prev, &m)?,
                None => m,
            };
            let none_left = m.true_count() == 0;
            mask = Some(m);
            if none_left {
                break;
            }
        }
        if !self.deletes.is_empty() {
            let keep = self.deleted_rows(rg, &batch).await?;
            mask = Some(match mask {
                Some(m) => and(&m, &keep)?,
                None => keep,
            });
        }
        let projected = batch.project(&spec.output)?;
        Ok(match mask {
            // Most row groups of a broad filter pass whole: keep the cached arrays, copy nothing.
            Some(m) if m.null_count() == 0 && m.true_count() == m.len() => projected,
            Some(m) => filter_record_batch(&projected, &m)?,
            None => projected,
        })
    }

    /// The keep-mask after applying every delete file of this part.
    async fn deleted_rows(&self, rg: usize, batch: &RecordBatch) -> Result<BooleanArray> {
        let mut keep = vec![true; batch.num_rows()];
        let first_row = self.footer.row_group_offset(rg);
        for set in &self.deletes {
            match set.as_ref() {
                DeleteSet::Positional(p) => p.apply(&self.part.path, first_row, &mut keep),
                DeleteSet::Equality(eq) => {
                    let mut keys = Vec::with_capacity(eq.field_ids.len());
                    for id in &eq.field_ids {
                        let field = self
                            .spec
                            .schema
                            .fields()
                            .iter()
                            .find(|f| field_id_of(f) == Some(*id))
                            .ok_or_else(|| {
                                CacheError::Unsupported(format!("an equality delete on field {id}, which the schema no longer has"))
                            })?;
                        keys.push(match self.spec.needed_schema.index_of(field.name()) {
                            Ok(i) => batch.column(i).clone(),
                            Err(_) => self.column(rg, field).await?,
                        });
                    }
                    eq.apply(&keys, &mut keep)?;
                }
            }
        }
        Ok(BooleanArray::from(keep))
    }
}

fn to_mask(array: ArrayRef) -> Result<BooleanArray> {
    array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .cloned()
        .ok_or_else(|| CacheError::invalid(format!("the filter is {}, not a boolean", array.data_type())))
}

/// Row-group min/max/null statistics of one file, named by table columns.
struct RowGroupStats<'a> {
    footer: &'a Footer,
    schema: &'a Schema,
    first: usize,
    end: usize,
}

impl RowGroupStats<'_> {
    fn converter(&self, column: &DfColumn) -> Option<(StatisticsConverter<'_>, FieldRef)> {
        let field = self.schema.field_with_name(&column.name).ok()?;
        let root = self.footer.root_of(field_id_of(field)?, field.name())?;
        let file_name = self.footer.arrow_schema().field(root).name();
        let converter =
            StatisticsConverter::try_new(file_name, self.footer.arrow_schema(), self.footer.metadata.file_metadata().schema_descr()).ok()?;
        Some((converter, Arc::new(field.clone())))
    }

    fn groups(&self) -> impl Iterator<Item = &parquet::file::metadata::RowGroupMetaData> {
        self.footer.metadata.row_groups()[self.first..self.end].iter()
    }

    fn bound(&self, column: &DfColumn, max: bool) -> Option<ArrayRef> {
        let (c, field) = self.converter(column)?;
        let array = if max { c.row_group_maxes(self.groups()) } else { c.row_group_mins(self.groups()) }.ok()?;
        // Statistics are in the file's type; the filter speaks the table's.
        arrow::compute::cast(&array, field.data_type()).ok()
    }
}

impl PruningStatistics for RowGroupStats<'_> {
    fn min_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, false)
    }

    fn max_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, true)
    }

    fn num_containers(&self) -> usize {
        self.end - self.first
    }

    fn null_counts(&self, column: &DfColumn) -> Option<ArrayRef> {
        let (c, _) = self.converter(column)?;
        Some(Arc::new(c.row_group_null_counts(self.groups()).ok()?))
    }

    fn row_counts(&self, _column: &DfColumn) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from_iter_values(self.groups().map(|g| g.num_rows() as u64))))
    }

    fn contained(&self, _column: &DfColumn, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}
