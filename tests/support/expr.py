"""Iceberg REST expression JSON: builders, translation to pyiceberg, and a reference
evaluator that decides which rows a filtered scan must return.

The rows always come from pyiceberg's read of the snapshot; which of them a filter keeps is
decided by one of three semantics (ARROW_CACHE_FILTER_SEMANTICS):

  sql (default)  SQL three-valued logic, applied consistently: a comparison, set test, prefix
                 test or NaN test on a null is unknown and the row is dropped (also under
                 `not`); IEEE equality (-0.0 == 0.0); NaN compares false to everything. This is
                 what pyiceberg does too, except for its quirks listed in cases.PYICEBERG_QUIRKS
                 (test_oracle.py checks that those are the only differences), and what the
                 node documents (service/src/plan/filter.rs).
  pyiceberg      exactly pyiceberg 0.12's row_filter result, quirks included.
  spec           the Iceberg expressions spec (format/expressions-spec.md): two-valued and
                 null-safe, so `not-eq`, `not-in`, `not-starts-with`, `not-nan` and `not(...)`
                 keep null rows; NaN compares false.

pyiceberg itself cannot filter uuid columns (pyarrow has no kernels for `arrow.uuid`); the
evaluator covers those in every mode.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from decimal import Decimal

import pyarrow as pa
from pyiceberg import expressions as E
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from .tables import oracle

SEMANTICS = os.environ.get("ARROW_CACHE_FILTER_SEMANTICS", "sql")
MODES = ("sql", "pyiceberg", "spec")
assert SEMANTICS in MODES, f"ARROW_CACHE_FILTER_SEMANTICS={SEMANTICS!r}, expected one of {MODES}"


# --------------------------------------------------------------------------------------------
# Builders (the JSON the cache receives)


def pred(op: str, term: str, value=None) -> dict:
    return {"type": op, "term": term, "value": value}


def unary(op: str, term: str) -> dict:
    return {"type": op, "term": term}


def in_(term: str, values: list) -> dict:
    return {"type": "in", "term": term, "values": values}


def not_in(term: str, values: list) -> dict:
    return {"type": "not-in", "term": term, "values": values}


def and_(left: dict, right: dict) -> dict:
    return {"type": "and", "left": left, "right": right}


def or_(left: dict, right: dict) -> dict:
    return {"type": "or", "left": left, "right": right}


def not_(child: dict) -> dict:
    return {"type": "not", "child": child}


TRUE = {"type": "true"}
FALSE = {"type": "false"}


# --------------------------------------------------------------------------------------------
# JSON literal -> Python value of the column's type


def _field_type(schema: Schema, term: str) -> IcebergType:
    return schema.find_field(term).field_type


def to_python(value, typ: IcebergType):
    """The value a JSON literal denotes for a column of `typ` (as pyarrow's to_pylist shows it)."""
    if isinstance(typ, (IntegerType, LongType)):
        return int(value)
    if isinstance(typ, (FloatType, DoubleType)):
        return float(value)
    if isinstance(typ, BooleanType):
        return bool(value)
    if isinstance(typ, DecimalType):
        return Decimal(value)
    if isinstance(typ, DateType):
        return dt.date.fromisoformat(value)
    if isinstance(typ, TimeType):
        return dt.time.fromisoformat(value)
    if isinstance(typ, TimestampType):
        return dt.datetime.fromisoformat(value)
    if isinstance(typ, TimestamptzType):
        return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
    if isinstance(typ, UUIDType):
        return uuid.UUID(value)
    if isinstance(typ, (FixedType, BinaryType)):
        return bytes.fromhex(value)
    if isinstance(typ, StringType):
        return str(value)
    raise TypeError(f"no literal conversion for {typ}")


def _pyiceberg_literal(value, typ: IcebergType):
    # pyiceberg parses ISO strings for temporal types itself; bytes and decimals need help.
    if isinstance(typ, (FixedType, BinaryType, DecimalType, UUIDType)):
        return to_python(value, typ)
    if isinstance(typ, (FloatType, DoubleType)):
        return float(value)
    return value


# --------------------------------------------------------------------------------------------
# JSON -> pyiceberg expression

_BINARY = {"eq": E.EqualTo, "not-eq": E.NotEqualTo, "lt": E.LessThan, "lt-eq": E.LessThanOrEqual,
           "gt": E.GreaterThan, "gt-eq": E.GreaterThanOrEqual, "starts-with": E.StartsWith,
           "not-starts-with": E.NotStartsWith}
_UNARY = {"is-null": E.IsNull, "not-null": E.NotNull, "is-nan": E.IsNaN, "not-nan": E.NotNaN}


def to_pyiceberg(expr: dict, schema: Schema) -> E.BooleanExpression:
    op = expr["type"]
    if op == "true":
        return E.AlwaysTrue()
    if op == "false":
        return E.AlwaysFalse()
    if op == "and":
        return E.And(to_pyiceberg(expr["left"], schema), to_pyiceberg(expr["right"], schema))
    if op == "or":
        return E.Or(to_pyiceberg(expr["left"], schema), to_pyiceberg(expr["right"], schema))
    if op == "not":
        return E.Not(to_pyiceberg(expr["child"], schema))
    term = expr["term"]
    typ = _field_type(schema, term)
    if op in _UNARY:
        return _UNARY[op](term)
    if op in _BINARY:
        return _BINARY[op](term, _pyiceberg_literal(expr["value"], typ))
    if op in ("in", "not-in"):
        values = [_pyiceberg_literal(v, typ) for v in expr["values"]]
        return (E.In if op == "in" else E.NotIn)(term, values)
    raise ValueError(f"unknown expression type {op!r}")


def terms(expr: dict) -> set[str]:
    if "term" in expr:
        return {expr["term"]}
    out = set()
    for key in ("left", "right", "child"):
        if key in expr:
            out |= terms(expr[key])
    return out


# --------------------------------------------------------------------------------------------
# Reference evaluator. Returns True / False / None (None = SQL unknown; the row is dropped).


def _is_nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _same_float_bits(a, b) -> bool:
    # pyarrow's is_in hashes values, so -0.0 and 0.0 differ there (but not under `eq`).
    return not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)


def evaluate(expr: dict, row: dict, schema: Schema, semantics: str = SEMANTICS):
    op = expr["type"]
    if op == "true":
        return True
    if op == "false":
        return False
    if op in ("and", "or", "not"):
        return _logic(op, expr, row, schema, semantics)

    term = expr["term"]
    v = row[term]
    typ = _field_type(schema, term)
    spec = semantics == "spec"
    # What a null value yields: unknown under SQL logic; under the spec, true exactly for the
    # negated forms.
    on_null = (op in ("not-eq", "not-in", "not-starts-with", "not-nan")) if spec else None
    if op == "is-null":
        return v is None
    if op == "not-null":
        return v is not None
    if v is None and not (op in ("in", "not-in") and semantics == "pyiceberg"):
        return on_null
    if op in ("is-nan", "not-nan"):
        return _is_nan(v) == (op == "is-nan")
    if op in ("in", "not-in"):
        values = [to_python(x, typ) for x in expr["values"]]
        if semantics == "pyiceberg":
            if len(values) == 1:  # pyiceberg binds one-element sets as eq / not-eq
                return evaluate(pred("eq" if op == "in" else "not-eq", term,
                                     expr["values"][0]), row, schema, semantics)
            if v is None:  # pyarrow's is_in says false (not null) for a null input
                return op == "not-in"
            found = any(v == x and _same_float_bits(v, x) for x in values)
        else:
            found = any(v == x for x in values)  # NaN equals no literal
        return found if op == "in" else not found
    lit = to_python(expr["value"], typ)
    if op in ("starts-with", "not-starts-with"):
        return v.startswith(lit) == (op == "starts-with")
    if op == "eq":
        return v == lit
    if op == "not-eq":
        return v != lit  # NaN != x is true under every mode
    return {"lt": v < lit, "lt-eq": v <= lit, "gt": v > lit, "gt-eq": v >= lit}[op]  # NaN: false


def _logic(op, expr, row, schema, semantics):
    if op == "not":
        c = evaluate(expr["child"], row, schema, semantics)
        return None if c is None else not c
    a = evaluate(expr["left"], row, schema, semantics)
    b = evaluate(expr["right"], row, schema, semantics)
    if op == "and":  # Kleene logic (spec mode never yields None, so it is plain logic there)
        if a is False or b is False:
            return False
        return None if a is None or b is None else True
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def filter_with_evaluator(full: pa.Table, expr: dict, schema: Schema,
                          semantics: str = SEMANTICS, rows: list[dict] | None = None) -> pa.Table:
    """`rows` may pass full.to_pylist() when filtering the same table many times."""
    rows = full.to_pylist() if rows is None else rows
    mask = [evaluate(expr, row, schema, semantics) is True for row in rows]
    return full.filter(pa.array(mask, pa.bool_()))


# --------------------------------------------------------------------------------------------
# What the cache must return for a filtered scan


def needs_evaluator(expr: dict, schema: Schema) -> bool:
    """pyiceberg cannot evaluate this at all (uuid columns)."""
    return any(isinstance(_field_type(schema, t), UUIDType) for t in terms(expr))


def pyiceberg_is_sql(expr: dict, schema: Schema) -> bool:
    """pyiceberg's result provably equals the `sql` semantics for this expression: without
    negation a row survives only if every test is true, so how nulls are treated cannot
    matter; the one remaining quirk is is_in hashing -0.0 apart from 0.0 for floats."""
    op = expr["type"]
    if op == "not" or (op.startswith("not-") and op != "not-null"):
        return False
    if op in ("and", "or"):
        return pyiceberg_is_sql(expr["left"], schema) and pyiceberg_is_sql(expr["right"], schema)
    if "term" not in expr:
        return True  # true / false
    typ = _field_type(schema, expr["term"])
    if isinstance(typ, UUIDType):
        return False
    return not (op == "in" and isinstance(typ, (FloatType, DoubleType)))


# Full reads by (table uuid, snapshot id): a snapshot never changes, and re-reading and
# converting a table for each of ~200 filter cases would dominate the suite's run time.
_FULL_READS: dict[tuple, tuple[pa.Table, list[dict]]] = {}


def _full_read(table: Table, snapshot_id: int | None) -> tuple[pa.Table, list[dict]]:
    snap = snapshot_id if snapshot_id is not None else table.current_snapshot().snapshot_id
    key = (str(table.metadata.table_uuid), snap)
    if key not in _FULL_READS:
        if len(_FULL_READS) >= 16:
            _FULL_READS.pop(next(iter(_FULL_READS)))
        full = oracle(table, None, E.AlwaysTrue(), snap)
        _FULL_READS[key] = (full, full.to_pylist())
    return _FULL_READS[key]


def expected_scan(table: Table, expr: dict, columns: list[str] | None = None,
                  snapshot_id: int | None = None, semantics: str = SEMANTICS) -> pa.Table:
    """The rows a scan with this filter must return (see the module docstring)."""
    schema = table.schema() if snapshot_id is None else table.scan(
        snapshot_id=snapshot_id).projection()
    if (semantics == "pyiceberg" and not needs_evaluator(expr, schema)) or (
            semantics == "sql" and pyiceberg_is_sql(expr, schema)):
        return oracle(table, columns, to_pyiceberg(expr, schema), snapshot_id)
    full, rows = _full_read(table, snapshot_id)
    out = filter_with_evaluator(full, expr, schema, semantics, rows)
    return out.select(columns) if columns else out
