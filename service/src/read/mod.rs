//! Reading a split: cached columns in, filtered and projected batches out.
//!
//! For each row group of each file part: skip it if its statistics, or its
//! page index, rule the filter out; fetch the needed columns through the cache
//! (loading what is missing, one column chunk at a time, concurrently); drop
//! deleted rows and the pages the page index rules out; keep the rows where the
//! filter is TRUE; project. With no filter and no deletes a warm read is
//! zero-copy: the batch is made of the cached arrays themselves.
//!
//! Cache entries are whole column chunks, so a page the index rules out is
//! still loaded on a miss (the next query's filter may need it); the index
//! saves the filter evaluation and copying of those rows, and whole row groups
//! where no page can match are never loaded at all.

mod prune;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::BooleanBufferBuilder;
use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::compute::{and, filter, filter_record_batch};
use arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::datasource::physical_plan::parquet::RowGroupAccess;
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};
use datafusion::physical_optimizer::pruning::PruningPredicate;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use parquet::arrow::arrow_reader::RowSelection;

use crate::cache::Owner;
use crate::error::{CacheError, Result};
use crate::load::deletes_kind;
use crate::load::{DeleteSet, FileRef, Footer, Loader, field_id_of};
use crate::plan::filter::prunable_conjuncts;
use arrow_cache_protocol::scan::{FilePart, Split};
use prune::{PageFilter, RowGroupStats};

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
    pages: PageFilter,
    pub limit: Option<usize>,
}

impl ScanSpec {
    /// Compiles `filters` (all of which must hold) against the table schema.
    pub fn new(
        table: &str,
        schema: SchemaRef,
        projection: Vec<usize>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Self> {
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let props = ExecutionProps::new();
        let mut needed: Vec<usize> = projection.clone();
        for f in filters {
            for c in f.column_refs() {
                let i = schema
                    .index_of(&c.name)
                    .map_err(|_| CacheError::invalid(format!("unknown column `{}`", c.name)))?;
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
        let prunable = prunable_conjuncts(filters, &schema);
        let pages = PageFilter::new(prunable.clone());
        let pruning = match conjunction(prunable) {
            Some(e) => {
                let phys = create_physical_expr(&e, &df_schema, &props)?;
                // A filter the pruner cannot reason about just prunes nothing.
                PruningPredicate::try_new(phys, schema.clone()).ok().filter(|p| !p.always_true())
            }
            None => None,
        };
        Ok(Self {
            table: table.into(),
            schema,
            projection,
            needed_schema,
            output,
            filters: conjuncts,
            pruning,
            pages,
            limit,
        })
    }

    pub fn output_schema(&self) -> SchemaRef {
        Arc::new(self.needed_schema.project(&self.output).expect("output within needed"))
    }
}

/// What statistics saved, counted over the node's life (for `/metrics`).
#[derive(Debug, Default)]
pub(crate) struct SkipCounters {
    /// Row groups read, after skipping.
    pub row_groups_read: AtomicU64,
    /// Row groups skipped by their row-group statistics.
    pub row_groups_skipped_by_stats: AtomicU64,
    /// Row groups skipped because no page of theirs can match.
    pub row_groups_skipped_by_page_index: AtomicU64,
    /// Rows of read row groups that the page index ruled out.
    pub rows_skipped_by_page_index: AtomicU64,
}

impl SkipCounters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Reads splits through the loader's caches.
#[derive(Clone)]
pub(crate) struct SplitReader {
    loader: Arc<Loader>,
    pub skipped: Arc<SkipCounters>,
}

impl SplitReader {
    pub(crate) fn new(loader: Arc<Loader>) -> Self {
        Self { loader, skipped: Arc::default() }
    }

    /// The batches of `split`, filtered and projected by `spec`.
    pub(crate) fn read(&self, spec: Arc<ScanSpec>, split: Split) -> BoxStream<'static, Result<RecordBatch>> {
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
            let footer = self.loader.footer(&FileRef::from(&part), &owner).await?;
            let deletes = self.load_deletes(&part, &owner).await?;
            let (first, end) = part.row_groups.unwrap_or((0, footer.num_row_groups()));
            let end = end.min(footer.num_row_groups());
            let keep = match &spec.pruning {
                Some(p) => p.prune(&RowGroupStats { footer: &footer, schema: &spec.schema, first, end })?,
                None => vec![true; end.saturating_sub(first)],
            };
            let groups: Vec<usize> = (first..end).zip(keep).filter(|(_, k)| *k).map(|(rg, _)| rg).collect();
            let counters = &self.skipped;
            SkipCounters::add(&counters.row_groups_skipped_by_stats, end.saturating_sub(first) - groups.len());
            let mut reads = Vec::with_capacity(groups.len());
            for (rg, access) in groups.iter().zip(spec.pages.access(&footer, &spec.schema, &groups)) {
                match access {
                    RowGroupAccess::Skip => SkipCounters::add(&counters.row_groups_skipped_by_page_index, 1),
                    RowGroupAccess::Scan => reads.push((*rg, None)),
                    RowGroupAccess::Selection(s) if !s.selects_any() => {
                        SkipCounters::add(&counters.row_groups_skipped_by_page_index, 1)
                    }
                    RowGroupAccess::Selection(s) => {
                        SkipCounters::add(&counters.rows_skipped_by_page_index, s.skipped_row_count());
                        reads.push((*rg, Some(s)));
                    }
                }
            }
            SkipCounters::add(&counters.row_groups_read, reads.len());
            let ctx = Arc::new(PartContext { reader: self, spec, part, footer, deletes, owner });
            // Decode the next row group while the current one is sent.
            let prefetch = if limit.is_some() { 1 } else { 2 };
            Ok::<_, CacheError>(
                stream::iter(reads).map(move |(rg, pages)| ctx.clone().read_row_group(rg, pages)).buffered(prefetch),
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
        self.reader.loader.column(&FileRef::from(&self.part), &self.footer, rg, field, &self.owner).await
    }

    /// Row group `rg`, filtered and projected; `pages`, when set, are the only
    /// rows the page index says can match.
    async fn read_row_group(self: Arc<Self>, rg: usize, pages: Option<RowSelection>) -> Result<RecordBatch> {
        let spec = &self.spec;
        let columns =
            futures::future::try_join_all(spec.needed_schema.fields().iter().map(|f| self.column(rg, f))).await?;
        // `count(*)` reads no column at all: the batch is just a row count.
        let options = RecordBatchOptions::new().with_row_count(Some(self.footer.row_group_rows(rg)));
        let mut batch = RecordBatch::try_new_with_options(spec.needed_schema.clone(), columns, &options)?;
        // Deletes first: positions refer to the whole row group.
        let mut mask = match self.deletes.is_empty() {
            true => None,
            false => Some(self.deleted_rows(rg, &batch).await?),
        };
        if let Some(pages) = pages {
            let pages = selection_mask(&pages, batch.num_rows());
            if pages.true_count() * 2 <= pages.len() {
                // Few rows left: copying them beats evaluating the filter on all.
                batch = filter_record_batch(&batch, &pages)?;
                mask = mask.map(|m| filter(&m, &pages)).transpose()?.map(to_mask).transpose()?;
            } else {
                mask = Some(match mask {
                    Some(m) => and(&m, &pages)?,
                    None => pages,
                });
            }
        }
        // Conjunct by conjunct, and-ing the masks: a DataFusion AND of a selective
        // conjunct copies every column down to its rows before evaluating the rest,
        // which costs more than evaluating each on the whole batch.
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
                        let field = self.spec.schema.fields().iter().find(|f| field_id_of(f) == Some(*id)).ok_or_else(
                            || {
                                CacheError::Unsupported(format!(
                                    "an equality delete on field {id}, which the schema no longer has"
                                ))
                            },
                        )?;
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

/// A row selection as a mask over `rows` rows.
fn selection_mask(selection: &RowSelection, rows: usize) -> BooleanArray {
    let mut mask = BooleanBufferBuilder::new(rows);
    for s in selection.iter() {
        mask.append_n(s.row_count, !s.skip);
    }
    // A selection shorter than the row group leaves the rest unread: keep it.
    if mask.len() < rows {
        mask.append_n(rows - mask.len(), true);
    }
    BooleanArray::new(mask.finish(), None)
}
