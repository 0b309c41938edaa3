//! Filters: the Iceberg REST expression JSON of scan requests, the DataFusion
//! expressions the node evaluates, and the Iceberg predicates used for pruning.
//!
//! Every filter ends up as one DataFusion [`Expr`] that the split reader applies
//! exactly, row by row (SQL three-valued logic: a row is returned only when the
//! filter is TRUE, so `not-eq` and `not-in` never return nulls). A conservative
//! translation of it to an Iceberg [`Predicate`] prunes partitions, manifests and
//! files; pruning may keep too much, never too little.
//!
//! ```
//! # use arrow::datatypes::{DataType, Field, Schema};
//! # use arrow_cache::plan::filter::parse_iceberg_json;
//! let schema = Schema::new(vec![Field::new("id", DataType::Int64, true)]);
//! let json = serde_json::json!({"type": "and",
//!     "left": {"type": "gt-eq", "term": "id", "value": 10},
//!     "right": {"type": "not-in", "term": "id", "values": [12, 13]}});
//! let expr = parse_iceberg_json(&json, &schema).unwrap();
//! assert_eq!(expr.to_string(), "id >= Int64(10) AND id NOT IN ([Int64(12), Int64(13)])");
//! ```

use arrow::datatypes::{DataType, Schema, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{Column, ScalarValue};
use datafusion::functions::expr_fn::{isnan, starts_with};
use datafusion::logical_expr::expr::{InList, Like, ScalarFunction};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, lit};
use iceberg::expr::{Predicate, Reference};
use iceberg::spec::Datum;
use serde_json::Value;

use crate::error::{CacheError, Result};

/// Parses an Iceberg REST expression, typing each literal by its column.
pub fn parse_iceberg_json(json: &Value, schema: &Schema) -> Result<Expr> {
    Parser { schema }.expr(json)
}

struct Parser<'a> {
    schema: &'a Schema,
}

impl Parser<'_> {
    fn expr(&self, json: &Value) -> Result<Expr> {
        let obj = match json {
            Value::Bool(b) => return Ok(lit(*b)),
            Value::Object(o) => o,
            other => return Err(CacheError::invalid(format!("a filter must be a JSON object, got `{other}`"))),
        };
        let kind = obj.get("type").and_then(Value::as_str).ok_or_else(|| {
            CacheError::invalid(format!("filter `{json}` has no \"type\" (eq, lt, and, or, not, in, is-null, ...)"))
        })?;
        let child = |key: &str| -> Result<Expr> {
            let v =
                obj.get(key).ok_or_else(|| CacheError::invalid(format!("`{kind}` filter needs \"{key}\": {json}")))?;
            self.expr(v)
        };
        Ok(match kind {
            "true" => lit(true),
            "false" => lit(false),
            "and" => child("left")?.and(child("right")?),
            "or" => child("left")?.or(child("right")?),
            "not" => Expr::Not(Box::new(child("child")?)),
            "is-null" | "not-null" | "is-nan" | "not-nan" => {
                let (col, ty) = self.term(obj.get("term"), kind)?;
                match kind {
                    "is-null" => col.is_null(),
                    "not-null" => col.is_not_null(),
                    _ if !ty.is_floating() => {
                        return Err(CacheError::invalid(format!(
                            "`{kind}` needs a float or double column, `{}` is {ty}",
                            col
                        )));
                    }
                    "is-nan" => isnan(col),
                    _ => Expr::Not(Box::new(isnan(col))),
                }
            }
            "eq" | "not-eq" | "lt" | "lt-eq" | "gt" | "gt-eq" | "starts-with" | "not-starts-with" => {
                let (col, ty) = self.term(obj.get("term"), kind)?;
                let value = obj
                    .get("value")
                    .ok_or_else(|| CacheError::invalid(format!("`{kind}` filter needs \"value\": {json}")))?;
                let value = literal(value, &ty, &col)?;
                if kind.ends_with("starts-with") {
                    if !matches!(ty, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                        return Err(CacheError::invalid(format!("`{kind}` needs a string column, `{col}` is {ty}")));
                    }
                    let e = starts_with(col, lit(value));
                    return Ok(if kind == "starts-with" { e } else { Expr::Not(Box::new(e)) });
                }
                let op = match kind {
                    "eq" => Operator::Eq,
                    "not-eq" => Operator::NotEq,
                    "lt" => Operator::Lt,
                    "lt-eq" => Operator::LtEq,
                    "gt" => Operator::Gt,
                    _ => Operator::GtEq,
                };
                if ty.is_floating() { ieee_compare(col, op, value) } else { binary(col, op, value) }
            }
            "in" | "not-in" => {
                let (col, ty) = self.term(obj.get("term"), kind)?;
                let values = obj
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(|| CacheError::invalid(format!("`{kind}` filter needs \"values\": [...]: {json}")))?;
                let mut list = values.iter().map(|v| literal(v, &ty, &col)).collect::<Result<Vec<_>>>()?;
                // IEEE: 0.0 and -0.0 are equal; Arrow's total order tells them apart.
                for zero in list.iter().filter(|v| is_zero(v)).cloned().collect::<Vec<_>>() {
                    list.push(negate(&zero));
                }
                Expr::InList(InList::new(Box::new(col), list.into_iter().map(lit).collect(), kind == "not-in"))
            }
            other => {
                return Err(CacheError::invalid(format!(
                    "unknown filter type `{other}`; expected one of and, or, not, true, false, eq, not-eq, lt, lt-eq, gt, gt-eq, in, not-in, is-null, not-null, is-nan, not-nan, starts-with, not-starts-with"
                )));
            }
        })
    }

    /// A term is a column name, or `{"type": "reference", "term": name}`.
    fn term(&self, term: Option<&Value>, kind: &str) -> Result<(Expr, DataType)> {
        let name = match term {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("reference") => {
                o.get("term").and_then(Value::as_str).unwrap_or_default()
            }
            Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("transform") => {
                return Err(CacheError::Unsupported("transform terms in filters".into()));
            }
            _ => return Err(CacheError::invalid(format!("`{kind}` filter needs \"term\": a column name"))),
        };
        let field = self.schema.field_with_name(name).map_err(|_| {
            let names: Vec<_> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
            CacheError::invalid(format!("filter column `{name}` does not exist; columns are {names:?}"))
        })?;
        Ok((Expr::Column(Column::new_unqualified(name)), field.data_type().clone()))
    }
}

fn binary(col: Expr, op: Operator, value: ScalarValue) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(col), op, Box::new(lit(value))))
}

/// A float comparison with IEEE 754 meaning. Arrow compares floats in total
/// order, where NaN is above every number and -0.0 is below 0.0; Iceberg (like
/// IEEE) says NaN compares false with everything and -0.0 equals 0.0.
fn ieee_compare(col: Expr, op: Operator, value: ScalarValue) -> Expr {
    let not_nan = || Expr::Not(Box::new(isnan(col.clone())));
    if !is_zero(&value) {
        return match op {
            Operator::NotEq => binary(col, op, value),
            _ => binary(col.clone(), op, value).and(not_nan()),
        };
    }
    // In total order -0.0 < 0.0, so pick the zero that gives the IEEE answer.
    let (neg, pos) = (negate(&abs_zero(&value)), abs_zero(&value));
    match op {
        Operator::Eq | Operator::NotEq => {
            Expr::InList(InList::new(Box::new(col), vec![lit(neg), lit(pos)], op == Operator::NotEq))
        }
        Operator::Lt | Operator::GtEq => binary(col.clone(), op, neg).and(not_nan()),
        _ => binary(col.clone(), op, pos).and(not_nan()),
    }
}

fn is_zero(v: &ScalarValue) -> bool {
    matches!(v, ScalarValue::Float32(Some(f)) if *f == 0.0) || matches!(v, ScalarValue::Float64(Some(f)) if *f == 0.0)
}

/// `+0.0` of the value's type.
fn abs_zero(v: &ScalarValue) -> ScalarValue {
    match v {
        ScalarValue::Float32(_) => ScalarValue::Float32(Some(0.0)),
        _ => ScalarValue::Float64(Some(0.0)),
    }
}

fn negate(v: &ScalarValue) -> ScalarValue {
    match v {
        ScalarValue::Float32(Some(f)) => ScalarValue::Float32(Some(-f)),
        ScalarValue::Float64(Some(f)) => ScalarValue::Float64(Some(-f)),
        other => other.clone(),
    }
}

/// A JSON literal as a value of the column's type, as the Iceberg REST spec
/// writes them: numbers, strings for dates/times/decimals/uuids, hex for binary.
fn literal(v: &Value, ty: &DataType, col: &Expr) -> Result<ScalarValue> {
    let bad = || CacheError::invalid(format!("value `{v}` does not fit column `{col}` of type {ty}"));
    let text = v.as_str();
    let int = || v.as_i64().or_else(|| text.and_then(|s| s.trim().parse().ok())).ok_or_else(bad);
    let float = || v.as_f64().or_else(|| text.and_then(|s| s.trim().parse().ok())).ok_or_else(bad);
    Ok(match ty {
        DataType::Boolean => {
            ScalarValue::Boolean(Some(v.as_bool().or_else(|| text.and_then(|s| s.parse().ok())).ok_or_else(bad)?))
        }
        DataType::Int8 => ScalarValue::Int8(Some(int()?.try_into().map_err(|_| bad())?)),
        DataType::Int16 => ScalarValue::Int16(Some(int()?.try_into().map_err(|_| bad())?)),
        DataType::Int32 => ScalarValue::Int32(Some(int()?.try_into().map_err(|_| bad())?)),
        DataType::Int64 => ScalarValue::Int64(Some(int()?)),
        DataType::Float32 => ScalarValue::Float32(Some(float()? as f32)),
        DataType::Float64 => ScalarValue::Float64(Some(float()?)),
        DataType::Null => return Err(bad()),
        DataType::Utf8 => ScalarValue::Utf8(Some(text.ok_or_else(bad)?.to_string())),
        DataType::LargeUtf8 => ScalarValue::LargeUtf8(Some(text.ok_or_else(bad)?.to_string())),
        DataType::Utf8View => ScalarValue::Utf8View(Some(text.ok_or_else(bad)?.to_string())),
        DataType::Decimal128(p, s) => {
            let raw = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(bad()),
            };
            ScalarValue::Decimal128(Some(parse_decimal(&raw, *s).ok_or_else(bad)?), *p, *s)
        }
        DataType::Date32 => match v {
            Value::Number(_) => ScalarValue::Date32(Some(int()? as i32)),
            _ => {
                let d = NaiveDate::parse_from_str(text.ok_or_else(bad)?, "%Y-%m-%d").map_err(|_| bad())?;
                ScalarValue::Date32(Some((d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32))
            }
        },
        DataType::Time64(TimeUnit::Microsecond) => match v {
            Value::Number(_) => ScalarValue::Time64Microsecond(Some(int()?)),
            _ => {
                let t = NaiveTime::parse_from_str(text.ok_or_else(bad)?, "%H:%M:%S%.f").map_err(|_| bad())?;
                ScalarValue::Time64Microsecond(Some(
                    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64,
                ))
            }
        },
        DataType::Timestamp(unit, tz) => {
            let nanos = match v {
                Value::Number(_) => {
                    let n = int()?;
                    match unit {
                        TimeUnit::Second => n * 1_000_000_000,
                        TimeUnit::Millisecond => n * 1_000_000,
                        TimeUnit::Microsecond => n * 1_000,
                        TimeUnit::Nanosecond => n,
                    }
                }
                _ => parse_timestamp_nanos(text.ok_or_else(bad)?).ok_or_else(bad)?,
            };
            let tz = tz.clone();
            match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(nanos / 1_000_000_000), tz),
                TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(nanos / 1_000_000), tz),
                TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(nanos / 1_000), tz),
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(nanos), tz),
            }
        }
        DataType::FixedSizeBinary(16) if text.is_some_and(|s| s.len() == 36) => {
            let u = uuid::Uuid::parse_str(text.unwrap_or_default()).map_err(|_| bad())?;
            ScalarValue::FixedSizeBinary(16, Some(u.as_bytes().to_vec()))
        }
        DataType::FixedSizeBinary(n) => {
            let bytes = parse_hex(text.ok_or_else(bad)?).ok_or_else(bad)?;
            if bytes.len() != *n as usize {
                return Err(bad());
            }
            ScalarValue::FixedSizeBinary(*n, Some(bytes))
        }
        DataType::Binary => ScalarValue::Binary(Some(parse_hex(text.ok_or_else(bad)?).ok_or_else(bad)?)),
        DataType::LargeBinary => ScalarValue::LargeBinary(Some(parse_hex(text.ok_or_else(bad)?).ok_or_else(bad)?)),
        DataType::BinaryView => ScalarValue::BinaryView(Some(parse_hex(text.ok_or_else(bad)?).ok_or_else(bad)?)),
        _ => return Err(CacheError::invalid(format!("column `{col}` of type {ty} cannot be filtered on"))),
    })
}

fn parse_decimal(s: &str, scale: i8) -> Option<i128> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let scale = scale.max(0) as usize;
    // More fractional digits than the column holds cannot be equal to any value in it.
    if frac.len() > scale && frac[scale..].chars().any(|c| c != '0') {
        return None;
    }
    let digits = format!("{int}{frac:0<scale$}", frac = &frac[..frac.len().min(scale)]);
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn parse_timestamp_nanos(s: &str) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// The conjuncts of `filters` that can safely prune by min/max statistics.
///
/// Ordering comparisons on float columns are left out: statistics never count
/// NaN, while Arrow orders NaN above every number, so pruning by them could drop
/// rows that a SQL filter keeps.
pub fn prunable_conjuncts(filters: &[Expr], schema: &Schema) -> Vec<Expr> {
    filters
        .iter()
        .flat_map(datafusion::logical_expr::utils::split_conjunction)
        .filter(|e| !has_float_ordering(e, schema))
        .cloned()
        .collect()
}

fn has_float_ordering(e: &Expr, schema: &Schema) -> bool {
    let mut found = false;
    let _ = e.apply(|node| {
        if let Expr::BinaryExpr(b) = node
            && matches!(b.op, Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq)
        {
            for side in [&b.left, &b.right] {
                if let Expr::Column(c) = side.as_ref()
                    && schema.field_with_name(&c.name).is_ok_and(|f| f.data_type().is_floating())
                {
                    found = true;
                }
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    found
}

/// An Iceberg predicate implied by `filters`, for partition, manifest and file
/// pruning. Conjuncts that do not translate exactly are left out.
///
/// Conjuncts on `unprunable` columns are left out too: iceberg-rust reads a
/// file's bounds in the column's current type, which is wrong for files written
/// before a type promotion (an int bound read as a long).
pub fn to_iceberg_predicate(filters: &[Expr], schema: &Schema, unprunable: &[String]) -> Predicate {
    prunable_conjuncts(filters, schema)
        .iter()
        .filter(|e| e.column_refs().iter().all(|c| !unprunable.contains(&c.name)))
        .filter_map(translate)
        .fold(Predicate::AlwaysTrue, |acc, p| acc.and(p))
}

/// Exact translation, or `None`.
fn translate(e: &Expr) -> Option<Predicate> {
    match e {
        Expr::BinaryExpr(b) => match b.op {
            Operator::And => Some(translate(&b.left)?.and(translate(&b.right)?)),
            Operator::Or => Some(translate(&b.left)?.or(translate(&b.right)?)),
            op => {
                let (name, datum, op) = match (b.left.as_ref(), b.right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(v, _)) => (&c.name, datum(v)?, op),
                    (Expr::Literal(v, _), Expr::Column(c)) => (&c.name, datum(v)?, op.swap()?),
                    _ => return None,
                };
                let r = Reference::new(name.clone());
                Some(match op {
                    Operator::Eq => r.equal_to(datum),
                    Operator::NotEq => r.not_equal_to(datum),
                    Operator::Lt => r.less_than(datum),
                    Operator::LtEq => r.less_than_or_equal_to(datum),
                    Operator::Gt => r.greater_than(datum),
                    Operator::GtEq => r.greater_than_or_equal_to(datum),
                    _ => return None,
                })
            }
        },
        Expr::IsNull(inner) => Some(Reference::new(column(inner)?).is_null()),
        Expr::IsNotNull(inner) => Some(Reference::new(column(inner)?).is_not_null()),
        Expr::InList(InList { expr, list, negated }) => {
            let r = Reference::new(column(expr)?);
            let values = list
                .iter()
                .map(|e| match e {
                    Expr::Literal(v, _) => datum(v),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(if *negated { r.is_not_in(values) } else { r.is_in(values) })
        }
        Expr::ScalarFunction(ScalarFunction { func, args }) => match (func.name(), args.as_slice()) {
            ("isnan", [c]) => Some(Reference::new(column(c)?).is_nan()),
            ("starts_with", [c, Expr::Literal(v, _)]) => Some(Reference::new(column(c)?).starts_with(datum(v)?)),
            _ => None,
        },
        Expr::Like(Like { negated: false, expr, pattern, escape_char: None, case_insensitive: false }) => {
            let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = pattern.as_ref() else { return None };
            let prefix = p.strip_suffix('%')?;
            if prefix.contains(['%', '_', '\\']) {
                return None;
            }
            Some(Reference::new(column(expr)?).starts_with(Datum::string(prefix)))
        }
        Expr::Not(inner) => Some(!translate(inner)?),
        Expr::Literal(ScalarValue::Boolean(Some(true)), _) => Some(Predicate::AlwaysTrue),
        Expr::Literal(ScalarValue::Boolean(Some(false)), _) => Some(Predicate::AlwaysFalse),
        _ => None,
    }
}

fn column(e: &Expr) -> Option<String> {
    match e {
        Expr::Column(c) => Some(c.name.clone()),
        _ => None,
    }
}

fn datum(v: &ScalarValue) -> Option<Datum> {
    Some(match v {
        ScalarValue::Boolean(Some(b)) => Datum::bool(*b),
        ScalarValue::Int8(Some(i)) => Datum::int(*i as i32),
        ScalarValue::Int16(Some(i)) => Datum::int(*i as i32),
        ScalarValue::Int32(Some(i)) => Datum::int(*i),
        ScalarValue::Int64(Some(i)) => Datum::long(*i),
        ScalarValue::Float32(Some(f)) => Datum::float(*f),
        ScalarValue::Float64(Some(f)) => Datum::double(*f),
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            Datum::string(s)
        }
        ScalarValue::Date32(Some(d)) => Datum::date(*d),
        ScalarValue::TimestampMicrosecond(Some(t), None) => Datum::timestamp_micros(*t),
        ScalarValue::TimestampMicrosecond(Some(t), Some(_)) => Datum::timestamptz_micros(*t),
        ScalarValue::Decimal128(Some(v), _, s) => {
            Datum::decimal_from_str(ScalarValue::Decimal128(Some(*v), 38, *s).to_string()).ok()?
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::Field;
    use serde_json::json;

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("price", DataType::Decimal128(9, 2), true),
            Field::new("x", DataType::Float64, true),
            Field::new("day", DataType::Date32, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("+00:00"))), true),
            Field::new("name", DataType::Utf8, true),
        ])
    }

    #[test]
    fn literals_are_typed_by_column() {
        let s = schema();
        let e = parse_iceberg_json(&json!({"type": "eq", "term": "price", "value": "12.3"}), &s).unwrap();
        assert_eq!(e.to_string(), "price = Decimal128(Some(1230),9,2)");
        let e = parse_iceberg_json(&json!({"type": "lt", "term": "day", "value": "2024-01-02"}), &s).unwrap();
        assert!(e.to_string().contains("Date32(\"2024-01-02\")"), "{e}");
        let e =
            parse_iceberg_json(&json!({"type": "gt", "term": "ts", "value": "2024-01-01T00:00:00+00:00"}), &s).unwrap();
        assert!(e.to_string().contains("1704067200000000"), "{e}");
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let s = schema();
        for (f, want) in [
            (json!({"type": "eq", "term": "nope", "value": 1}), "does not exist"),
            (json!({"type": "between", "term": "id"}), "unknown filter type"),
            (json!({"type": "eq", "term": "id", "value": "ten"}), "does not fit"),
            (json!({"type": "is-nan", "term": "id"}), "float"),
            (json!({"type": "in", "term": "id"}), "values"),
            (json!([1, 2]), "JSON object"),
        ] {
            let err = parse_iceberg_json(&f, &s).unwrap_err().to_string();
            assert!(err.contains(want), "{f}: {err}");
        }
    }

    #[test]
    fn float_comparisons_exclude_nan_and_are_not_pruned_on() {
        let s = schema();
        let e = parse_iceberg_json(&json!({"type": "gt", "term": "x", "value": 1.5}), &s).unwrap();
        assert!(e.to_string().contains("NOT isnan(x)"), "{e}");
        let e = parse_iceberg_json(&json!({"type": "eq", "term": "x", "value": 0.0}), &s).unwrap();
        assert_eq!(e.to_string(), "x IN ([Float64(-0), Float64(0)])");
        assert_eq!(prunable_conjuncts(&[e], &s).len(), 1); // only NOT isnan(x)
    }

    #[test]
    fn pruning_predicate_keeps_exact_parts_only() {
        let s = schema();
        let f = parse_iceberg_json(
            &json!({"type": "and", "left": {"type": "eq", "term": "id", "value": 3},
                    "right": {"type": "not", "child": {"type": "starts-with", "term": "name", "value": "ab"}}}),
            &s,
        )
        .unwrap();
        let p = to_iceberg_predicate(&[f], &s, &[]);
        assert_eq!(p.to_string(), "(id = 3) AND (NOT (name STARTS WITH \"ab\"))");
        assert_eq!(parse_decimal("-1.5", 2), Some(-150));
        assert_eq!(parse_decimal("1.234", 2), None);
    }
}
