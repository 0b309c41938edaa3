//! Skipping by Parquet statistics: whole row groups by their min/max/null
//! counts, and pages within a row group by the page index.
//!
//! Both speak the table's column names, while a file may know a column by an
//! older name (renames keep the field id), so columns are matched by field id.
//! Skipping only ever drops rows the filter could not pass; the filter itself
//! is still applied exactly to what remains.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, UInt64Array};
use arrow::datatypes::{FieldRef, Schema};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column as DfColumn, DFSchema, ScalarValue};
use datafusion::datasource::physical_plan::ParquetFileMetrics;
use datafusion::datasource::physical_plan::parquet::{PagePruningAccessPlanFilter, ParquetAccessPlan, RowGroupAccess};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_expr::create_physical_expr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;

use crate::load::{Footer, field_id_of};

/// Which rows of each row group the page index leaves to read.
///
/// Holds the filter's prunable conjuncts in table terms; each file gets its
/// own page pruner, since files may name columns differently.
pub(super) struct PageFilter {
    conjuncts: Vec<Expr>,
}

impl PageFilter {
    pub(super) fn new(conjuncts: Vec<Expr>) -> Self {
        Self { conjuncts }
    }

    /// The access for each of `groups`: `Scan` (every row), `Selection` (only
    /// these rows can match) or `Skip` (no page can match).
    pub(super) fn access(&self, footer: &Footer, table: &Schema, groups: &[usize]) -> Vec<RowGroupAccess> {
        let all = || groups.iter().map(|_| RowGroupAccess::Scan).collect();
        let metadata = &footer.metadata;
        if self.conjuncts.is_empty() || metadata.column_index().is_none() || metadata.offset_index().is_none() {
            return all();
        }
        let file_schema = footer.arrow_schema();
        let in_file_terms = self.conjuncts.iter().filter_map(|e| in_file_terms(e, table, footer));
        let Some(expr) = conjunction(in_file_terms) else { return all() };
        let Ok(df_schema) = DFSchema::try_from(file_schema.as_ref().clone()) else { return all() };
        // A conjunct the pruner cannot compile just prunes nothing.
        let Ok(predicate) = create_physical_expr(&expr, &df_schema, &ExecutionProps::new()) else { return all() };
        let pruner = PagePruningAccessPlanFilter::new(&predicate, file_schema.clone());
        let mut plan = ParquetAccessPlan::new_none(footer.num_row_groups());
        for &rg in groups {
            plan.scan(rg);
        }
        let metrics = ParquetFileMetrics::new(0, &footer.path, &ExecutionPlanMetricsSet::new());
        let plan = pruner.prune_plan_with_page_index(
            plan,
            file_schema,
            metadata.file_metadata().schema_descr(),
            metadata,
            &metrics,
        );
        groups.iter().map(|&rg| plan.inner()[rg].clone()).collect()
    }
}

/// `expr` with table column names replaced by the file's, or `None` when the
/// file lacks a column or stores it in another type (its statistics would not
/// compare with the filter's literals).
fn in_file_terms(expr: &Expr, table: &Schema, footer: &Footer) -> Option<Expr> {
    let file_schema = footer.arrow_schema();
    expr.clone()
        .transform(|node| {
            let Expr::Column(c) = &node else { return Ok(Transformed::no(node)) };
            let renamed = table.field_with_name(&c.name).ok().and_then(|field| {
                let root = footer.root_of(field_id_of(field)?, field.name())?;
                let in_file = file_schema.field(root);
                (in_file.data_type() == field.data_type()).then(|| Expr::Column(DfColumn::from_name(in_file.name())))
            });
            match renamed {
                Some(e) => Ok(Transformed::yes(e)),
                None => {
                    Err(datafusion::error::DataFusionError::Plan(format!("`{}` not comparable in this file", c.name)))
                }
            }
        })
        .ok()
        .map(|t| t.data)
}

/// Row-group min/max/null statistics of one file, named by table columns.
pub(super) struct RowGroupStats<'a> {
    pub footer: &'a Footer,
    pub schema: &'a Schema,
    pub first: usize,
    pub end: usize,
}

impl RowGroupStats<'_> {
    fn converter(&self, column: &DfColumn) -> Option<(StatisticsConverter<'_>, FieldRef)> {
        let field = self.schema.field_with_name(&column.name).ok()?;
        let root = self.footer.root_of(field_id_of(field)?, field.name())?;
        let file_name = self.footer.arrow_schema().field(root).name();
        let converter = StatisticsConverter::try_new(
            file_name,
            self.footer.arrow_schema(),
            self.footer.metadata.file_metadata().schema_descr(),
        )
        .ok()?;
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field};
    use datafusion::logical_expr::{col, lit};
    use object_store::ObjectStore;
    use object_store::local::LocalFileSystem;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::async_reader::ParquetObjectReader;
    use parquet::file::properties::WriterProperties;

    use super::*;

    fn field(name: &str, id: i32) -> Field {
        Field::new(name, DataType::Int64, true)
            .with_metadata(HashMap::from([(crate::load::FIELD_ID_KEY.to_string(), id.to_string())]))
    }

    /// A file whose column `old` (field id 1) holds 0..1000 in pages of 100 rows.
    async fn sorted_file(dir: &std::path::Path) -> Footer {
        let path = dir.join("sorted.parquet");
        let schema = Arc::new(Schema::new(vec![field("old", 1)]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from_iter_values(0..1000))]).unwrap();
        let props = WriterProperties::builder().set_data_page_row_count_limit(100).set_write_batch_size(100).build();
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
        let mut reader = ParquetObjectReader::new(store, object_store::path::Path::from_absolute_path(&path).unwrap());
        Footer::load(&mut reader, path.display().to_string().into()).await.unwrap()
    }

    #[tokio::test]
    async fn page_index_selects_matching_pages_of_a_renamed_column() {
        let dir = std::env::temp_dir().join(format!("arrow-cache-prune-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let footer = sorted_file(&dir).await;
        // The table has since renamed the column: same field id, new name.
        let table = Schema::new(vec![field("new", 1)]);
        let filter = PageFilter::new(vec![col("new").gt_eq(lit(250i64)).and(col("new").lt(lit(420i64)))]);
        let access = filter.access(&footer, &table, &[0]);
        let RowGroupAccess::Selection(selection) = &access[0] else {
            panic!("expected a page selection, got {access:?}")
        };
        // Pages [200, 300), [300, 400) and [400, 500) can match; the other seven cannot.
        assert_eq!(selection.row_count(), 300);
        assert_eq!(selection.skipped_row_count(), 700);

        let none = PageFilter::new(vec![col("new").gt(lit(5000i64))]).access(&footer, &table, &[0]);
        assert!(
            matches!(&none[0], RowGroupAccess::Skip)
                || matches!(&none[0], RowGroupAccess::Selection(s) if !s.selects_any())
        );
        // A column the file does not have (or stores in another type) prunes nothing.
        let other = Schema::new(vec![field("new", 2)]);
        assert!(matches!(filter.access(&footer, &other, &[0])[0], RowGroupAccess::Scan));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
