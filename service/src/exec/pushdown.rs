//! What a scan request asks beyond filters and projections: an aggregate and
//! an order (top-N with a limit), applied with DataFusion over one split's rows
//! (`partial` mode, and `order_by` without an aggregate) or over the whole
//! scan (`final` mode, where the cluster's partial aggregates run on the
//! splits' owners as for SQL).
//!
//! Result columns: the group-by terms, then one per function in order; in
//! `partial` mode `avg` is two columns, its sum and its count, so that a
//! client merges partials exactly (Spark rewrites a pushed `avg` the same way).

use std::sync::{Arc, Mutex};

use arrow::datatypes::{DataType, SchemaRef};
use arrow_cache_protocol::scan::{Aggregate, AggregateFn, AggregateMode, Direction, SortKey, Term};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::{Column, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::functions::expr_fn::isnan;
use datafusion::functions_aggregate::expr_fn::{avg, bool_or, count, max, min, sum};
use datafusion::logical_expr::{Expr, SortExpr, cast, col, lit, when};
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{CacheError, Result};

/// The columns a pushed aggregate reads (its group-by terms and arguments, in
/// first-use order), or `None` when the request has no aggregate.
pub(crate) fn aggregate_inputs(aggregate: Option<&Aggregate>) -> Option<Vec<String>> {
    let aggregate = aggregate?;
    let mut columns: Vec<String> = vec![];
    let terms = aggregate.group_by.iter().chain(aggregate.functions.iter().filter_map(|f| f.term.as_ref()));
    for term in terms {
        if !columns.iter().any(|c| c == term.column()) {
            columns.push(term.column().to_string());
        }
    }
    Some(columns)
}

/// `df` aggregated, sorted and limited as asked.
pub(crate) fn apply(
    df: DataFrame,
    aggregate: Option<&Aggregate>,
    order_by: Option<&[SortKey]>,
    limit: Option<usize>,
) -> Result<DataFrame> {
    let mut df = df;
    if let Some(aggregate) = aggregate {
        df = aggregated(df, aggregate)?;
    }
    if let Some(keys) = order_by {
        let sort: Vec<SortExpr> =
            keys.iter().map(|k| column(&k.term).sort(k.direction == Direction::Asc, k.nulls_first())).collect();
        df = df.sort(sort).map_err(|e| in_request("order_by", e))?;
    }
    if let Some(n) = limit {
        df = df.limit(0, Some(n)).map_err(|e| in_request("limit", e))?;
    }
    Ok(df)
}

/// `df` grouped and aggregated: an aggregate step, then a projection that
/// names the result columns and finishes what one aggregate cannot say.
fn aggregated(df: DataFrame, aggregate: &Aggregate) -> Result<DataFrame> {
    let group: Vec<Expr> = aggregate.group_by.iter().map(column).collect();
    let mut names: Vec<String> = aggregate.group_by.iter().map(|t| t.column().to_string()).collect();
    let mut steps = vec![];
    let mut results: Vec<Expr> = group.clone();
    for (i, f) in aggregate.functions.iter().enumerate() {
        let step = |k: usize| format!("__arrow_cache_{i}_{k}");
        let mut name = |what: &str| unique(&mut names, what, f.term.as_ref());
        let Some(term) = &f.term else {
            // count_star: count(1) counts rows, the literal is never null.
            steps.push(count(lit(1i64)).alias(step(0)));
            results.push(col(step(0)).alias(name("count_star")));
            continue;
        };
        let arg = column(term);
        let float = matches!(
            df.schema().field_with_unqualified_name(term.column()).map(|f| f.data_type().clone()),
            Ok(DataType::Float16 | DataType::Float32 | DataType::Float64)
        );
        match f.function {
            AggregateFn::CountStar => unreachable!("count_star has no term (checked)"),
            AggregateFn::Count => {
                steps.push(count(arg).alias(step(0)));
                results.push(col(step(0)).alias(name("count")));
            }
            AggregateFn::Sum => {
                steps.push(sum(arg).alias(step(0)));
                results.push(col(step(0)).alias(name("sum")));
            }
            AggregateFn::Avg if aggregate.mode == AggregateMode::Partial => {
                steps.push(sum(arg.clone()).alias(step(0)));
                steps.push(count(arg).alias(step(1)));
                results.push(col(step(0)).alias(name("avg_sum")));
                results.push(col(step(1)).alias(name("avg_count")));
            }
            AggregateFn::Avg => {
                steps.push(avg(arg).alias(step(0)));
                results.push(col(step(0)).alias(name("avg")));
            }
            // NaN is larger than every number, as in Spark, Trino and Iceberg (DataFusion's
            // min/max compare floats with `<`, so a NaN would make them depend on the order):
            // the extremes of the other values, then NaN where it decides.
            AggregateFn::Min | AggregateFn::Max if float => {
                let is_nan = isnan(arg.clone());
                let others = when(is_nan.clone(), cast(lit(ScalarValue::Null), df_type(&df, term)?)).otherwise(arg)?;
                let is_max = f.function == AggregateFn::Max;
                steps.push(if is_max { max(others) } else { min(others) }.alias(step(0)));
                steps.push(bool_or(is_nan).alias(step(1)));
                let nan = cast(lit(f64::NAN), df_type(&df, term)?);
                let nan_decides = if is_max { col(step(1)) } else { col(step(0)).is_null().and(col(step(1))) };
                let result = when(nan_decides, nan).otherwise(col(step(0)))?;
                results.push(result.alias(name(if is_max { "max" } else { "min" })));
            }
            AggregateFn::Min => {
                steps.push(min(arg).alias(step(0)));
                results.push(col(step(0)).alias(name("min")));
            }
            AggregateFn::Max => {
                steps.push(max(arg).alias(step(0)));
                results.push(col(step(0)).alias(name("max")));
            }
        }
    }
    let df = df.aggregate(group, steps).map_err(|e| in_request("aggregate", e))?;
    df.select(results).map_err(|e| in_request("aggregate", e))
}

/// The type of `term`'s column in `df`.
fn df_type(df: &DataFrame, term: &Term) -> Result<DataType> {
    df.schema()
        .field_with_unqualified_name(term.column())
        .map(|f| f.data_type().clone())
        .map_err(|e| in_request("aggregate", e))
}

/// Runs `apply` over one split's rows.
pub(crate) async fn over_stream(
    schema: SchemaRef,
    rows: SendableRecordBatchStream,
    aggregate: Option<&Aggregate>,
    order_by: Option<&[SortKey]>,
    limit: Option<usize>,
) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    let table =
        StreamingTable::try_new(schema.clone(), vec![Arc::new(OneShot { schema, rows: Mutex::new(Some(rows)) })])?;
    // One partition in, one out: a split is one stream.
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
    let df = apply(ctx.read_table(Arc::new(table))?, aggregate, order_by, limit)?;
    let out: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    Ok((out, df.execute_stream().await?))
}

/// The output schema of `apply` over rows of `schema`, without reading any.
pub(crate) fn output_schema(
    schema: SchemaRef,
    aggregate: Option<&Aggregate>,
    order_by: Option<&[SortKey]>,
) -> Result<SchemaRef> {
    let table = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
    let df = apply(SessionContext::new().read_table(Arc::new(table))?, aggregate, order_by, None)?;
    Ok(Arc::new(df.schema().as_arrow().clone()))
}

/// A column by its exact name (no SQL identifier folding).
fn column(term: &Term) -> Expr {
    Expr::Column(Column::from_name(term.column()))
}

/// `what(term)`, made unique among the result's column names.
fn unique(names: &mut Vec<String>, what: &str, term: Option<&Term>) -> String {
    let base = match term {
        Some(t) => format!("{what}({})", t.column()),
        None => what.to_string(),
    };
    let mut name = base.clone();
    let mut n = 1;
    while names.contains(&name) {
        n += 1;
        name = format!("{base}#{n}");
    }
    names.push(name.clone());
    name
}

/// A DataFusion planning error as the request's fault, naming the field.
fn in_request(field: &str, e: datafusion::error::DataFusionError) -> CacheError {
    match CacheError::from(e) {
        CacheError::InvalidArgument(m) => CacheError::invalid(format!("{field}: {m}")),
        other => other,
    }
}

/// A split's rows as a DataFusion partition, read once.
struct OneShot {
    schema: SchemaRef,
    rows: Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for OneShot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneShot")
    }
}

impl PartitionStream for OneShot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let taken = self.rows.lock().unwrap_or_else(|e| e.into_inner()).take();
        taken.unwrap_or_else(|| {
            let empty = futures::stream::once(async {
                Err(datafusion::error::DataFusionError::Internal("a split's rows were read twice".into()))
            });
            Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(self.schema.clone(), empty))
        })
    }
}
