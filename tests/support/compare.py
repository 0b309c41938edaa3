"""Row-set comparison of Arrow tables: order-insensitive, NaN == NaN, with readable reports.

Types are compared after normalising representation-only differences (string vs large_string,
binary vs large_binary, dictionary encoding, the `arrow.uuid` extension vs its fixed(16)
storage, and the spellings "UTC" / "+00:00" of the UTC zone). Anything else that differs (a
timestamp unit, an int width, a decimal scale, a missing time zone) is a failure, reported
column by column before any value difference.
"""

from __future__ import annotations

import math
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

UTC_NAMES = {"UTC", "+00:00", "Z", "Etc/UTC", "+0000", "utc"}
MAX_REPORTED_ROWS = 8


def normalize_type(t: pa.DataType) -> pa.DataType:
    if isinstance(t, pa.BaseExtensionType):
        return normalize_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return normalize_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_timestamp(t) and t.tz in UTC_NAMES:
        return pa.timestamp(t.unit, "UTC")
    return t


def normalize_column(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(col.type, pa.BaseExtensionType):
        col = pa.chunked_array([c.storage for c in col.chunks], col.type.storage_type)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    target = normalize_type(col.type)
    return col if col.type == target else col.cast(target)


def normalize_table(table: pa.Table) -> pa.Table:
    return pa.table({name: normalize_column(table.column(name)) for name in table.column_names})


def _is_float(t: pa.DataType) -> bool:
    return pa.types.is_floating(t)


def _sorted(table: pa.Table) -> pa.Table:
    # Non-float columns first: keeps row order stable when float values differ within tolerance.
    names = sorted(table.column_names, key=lambda n: _is_float(table.schema.field(n).type))
    if not names or table.num_rows == 0:
        return table
    idx = pc.sort_indices(table, sort_keys=[(n, "ascending", "at_end") for n in names])
    return table.take(idx)


def _columns_equal(a: pa.ChunkedArray, b: pa.ChunkedArray, rel_tol: float) -> bool:
    if _is_float(a.type):
        nan_a = pc.fill_null(pc.is_nan(a), False)
        nan_b = pc.fill_null(pc.is_nan(b), False)
        if not nan_a.equals(nan_b):
            return False
        zero = pa.scalar(0, a.type)
        a = pc.if_else(nan_a, zero, a)
        b = pc.if_else(nan_b, zero, b)
        if rel_tol:
            if not pc.is_null(a).equals(pc.is_null(b)):
                return False
            # +-inf: equal infinities have a NaN difference, so compare them exactly.
            same = pc.equal(a, b)
            diff = pc.abs(pc.subtract(a, b))
            bound = pc.multiply(pc.max_element_wise(pc.abs(a), pc.abs(b), pa.scalar(1.0)),
                                rel_tol)
            ok = pc.or_kleene(same, pc.less_equal(diff, bound))
            return pc.all(pc.fill_null(ok, True)).as_py()
    return a.equals(b)


def _row_key(row: tuple) -> tuple:
    return tuple("<NaN>" if isinstance(v, float) and math.isnan(v) else v for v in row)


def _rows(table: pa.Table, names: list[str]) -> list[tuple]:
    cols = [table.column(n).to_pylist() for n in names]
    return [_row_key(r) for r in zip(*cols, strict=True)]


def _fmt_rows(names, rows) -> str:
    shown = rows[:MAX_REPORTED_ROWS]
    return "\n".join("    " + repr(dict(zip(names, r, strict=True))) for r in shown)


def _diff_report(actual: pa.Table, expected: pa.Table, names: list[str]) -> str:
    got, want = Counter(_rows(actual, names)), Counter(_rows(expected, names))
    extra, missing = list((got - want).elements()), list((want - got).elements())
    lines = [f"rows: cache returned {actual.num_rows}, pyiceberg oracle has {expected.num_rows}"]
    if extra:
        lines.append(f"  {len(extra)} row(s) from the cache not in the oracle, e.g.:")
        lines.append(_fmt_rows(names, extra))
    if missing:
        lines.append(f"  {len(missing)} oracle row(s) missing from the cache result, e.g.:")
        lines.append(_fmt_rows(names, missing))
    if not extra and not missing:
        lines.append("  same rows, but float values differ beyond the tolerance")
    return "\n".join(lines)


def schema_differences(actual: pa.Schema, expected: pa.Schema,
                       check_types: bool = True) -> list[str]:
    problems = []
    a_names, e_names = actual.names, expected.names
    if len(set(a_names)) != len(a_names):
        problems.append(f"duplicate column names in the cache result: {a_names}")
    missing = [n for n in e_names if n not in a_names]
    extra = [n for n in a_names if n not in e_names]
    if missing:
        problems.append(f"columns missing from the cache result: {missing}")
    if extra:
        problems.append(f"unexpected columns in the cache result: {extra}")
    if check_types:
        for name in e_names:
            if name in a_names:
                at = actual.field(name).type
                et = expected.field(name).type
                if normalize_type(at) != normalize_type(et):
                    problems.append(f"column {name!r}: cache type {at}, oracle type {et}")
    return problems


def assert_same_rows(actual: pa.Table, expected: pa.Table, *, check_types: bool = True,
                     float_rel_tol: float = 0.0, context: str = "") -> None:
    """The two tables hold the same multiset of rows (column order and row order ignored).

    float_rel_tol is for SQL aggregates over floats only, where summation order legitimately
    changes the last bits; scans must match exactly (the default).
    """
    where = f" [{context}]" if context else ""
    problems = schema_differences(actual.schema, expected.schema, check_types)
    if problems and any("columns" in p for p in problems):
        raise AssertionError(f"schema mismatch{where}:\n  " + "\n  ".join(problems))

    names = expected.column_names
    exp = normalize_table(expected)
    act = normalize_table(actual.select(names))
    # Cast value-compatible types so a type problem still gets a value report.
    cast_errors = []
    for i, name in enumerate(names):
        if act.schema.field(name).type != exp.schema.field(name).type:
            try:
                act = act.set_column(i, name, act.column(name).cast(exp.schema.field(name).type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                cast_errors.append(f"column {name!r}: cannot compare values ({e})")
    if cast_errors:
        raise AssertionError(f"type mismatch{where}:\n  " + "\n  ".join(problems + cast_errors))

    values_ok = act.num_rows == exp.num_rows
    if values_ok:
        act_s, exp_s = _sorted(act), _sorted(exp)
        values_ok = all(_columns_equal(act_s.column(n), exp_s.column(n), float_rel_tol)
                        for n in names)
    report = []
    if problems:
        report.append("type mismatch:\n  " + "\n  ".join(problems))
    if not values_ok:
        report.append(_diff_report(act, exp, names))
    if report:
        raise AssertionError(f"cache result differs from the oracle{where}:\n"
                             + "\n".join(report))


def assert_rows_subset(actual: pa.Table, expected: pa.Table, context: str = "") -> None:
    """Every row of `actual` occurs in `expected` (as a multiset): for `limit` results."""
    where = f" [{context}]" if context else ""
    problems = schema_differences(actual.schema, expected.schema)
    if problems:
        raise AssertionError(f"schema mismatch{where}:\n  " + "\n  ".join(problems))
    names = expected.column_names
    act = normalize_table(actual.select(names))
    exp = normalize_table(expected)
    extra = list((Counter(_rows(act, names)) - Counter(_rows(exp, names))).elements())
    if extra:
        raise AssertionError(f"{len(extra)} row(s) are not in the oracle{where}, e.g.:\n"
                             + _fmt_rows(names, extra))
