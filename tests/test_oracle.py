"""Self-checks of the test tooling; they need no node (run these first when changing support/).

They make sure the writers produce what the node tests assume, that the filter matrix has no
degenerate cases, that the reference evaluator reproduces pyiceberg exactly (it stands in for
pyiceberg on uuid columns), and that assert_same_rows catches what it should.
"""

import datetime as dt
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import tables as T
from support.cases import PYICEBERG_QUIRKS, filter_cases
from support.compare import assert_rows_subset, assert_same_rows
from support.expr import (
    _full_read,
    expected_scan,
    filter_with_evaluator,
    needs_evaluator,
    pyiceberg_is_sql,
    to_pyiceberg,
)

CASES = filter_cases()


def _local_path(uri: str) -> str:
    assert uri.startswith("file://"), uri
    return uri[len("file://"):]


def test_all_types_covers_every_type_with_edge_values(local_wh):
    table = local_wh.table(T.ALL_TYPES)
    data = T.oracle(table)
    assert len(T.data_files(table)) >= 4
    assert 2000 <= data.num_rows <= 5000
    assert [f.name for f in table.schema().fields] == [
        "id", "b", "i", "l", "f", "d", "dec9", "dec38", "dt", "t", "ts", "tstz", "s", "u",
        "fx", "bin"]
    rows = data.to_pylist()
    all_null = [r for r in rows if all(v is None for k, v in r.items() if k != "id")]
    assert len(all_null) >= 3
    fs = [r["f"] for r in rows if r["f"] is not None]
    ds = [r["d"] for r in rows if r["d"] is not None]
    for values in (fs, ds):
        assert any(math.isnan(v) for v in values)
        assert float("inf") in values and float("-inf") in values
        assert any(v == 0 and math.copysign(1, v) < 0 for v in values)
    assert "" in [r["s"] for r in rows] and b"" in [r["bin"] for r in rows]
    assert any(r["dt"] is not None and r["dt"] < dt.date(1970, 1, 1) for r in rows)
    for col, value in T.PROBE.items():
        assert any(r[col] == value for r in rows), col


def test_partitioned_tables_have_many_partitions_and_files(local_wh):
    for name, min_files in [(T.PART_IDENTITY, 15), (T.PART_DAY, 30), (T.PART_BUCKET, 10)]:
        table = local_wh.table(name)
        assert table.spec().fields, name
        assert len(T.data_files(table)) >= min_files, name
    regions = set(T.oracle(local_wh.table(T.PART_IDENTITY))["region"].to_pylist())
    assert None in regions and len(regions) == len(T.REGIONS) + 1


def test_evolution_old_files_keep_old_names_and_types(local_wh):
    table = local_wh.table(T.EVOLUTION)
    snaps = local_wh.evolution_snapshots
    file_schemas = [pq.read_schema(_local_path(f)) for f in T.data_files(table)]
    names = [set(s.names) for s in file_schemas]
    assert any({"name", "legacy"} <= n and "extra" not in n for n in names)  # the first write
    assert sum("extra" not in n for n in names) == 1  # written before the column was added
    assert sum("name" in n for n in names) == 2  # written before the rename
    assert sum("legacy" in n for n in names) == 3  # written before the drop
    assert {s.field("qty").type for s in file_schemas} == {pa.int32(), pa.int64()}
    assert {s.field("price").type for s in file_schemas} == {pa.float32(), pa.float64()}
    data = T.oracle(table)
    assert data.schema.names == ["id", "full_name", "qty", "price", "extra"]
    assert data.num_rows == 1600 and data["full_name"].null_count == 0
    assert T.oracle(table, snapshot_id=snaps.initial).schema.names == [
        "id", "name", "legacy", "qty", "price"]


def test_large_tables(local_wh):
    table = local_wh.table(T.LARGE)
    assert len(T.data_files(table)) == 6
    assert T.oracle(table, ["id"]).num_rows == 300_000


# pyiceberg quirks the evaluator's `pyiceberg` mode does not reproduce: checked to still
# differ, so that a pyiceberg upgrade that fixes them is noticed.
NOT_MIMICKED = {"evolution-added-not-eq"}  # see PYICEBERG_QUIRKS


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_filter_case_oracle(local_wh, case):
    """One pyiceberg filtered read per case, checked three ways:
    the case selects what its `expect` says (no literal that silently matches nothing);
    the evaluator in `pyiceberg` mode reproduces pyiceberg (so it can stand in for uuids);
    the default `sql` semantics equals pyiceberg except on the listed PYICEBERG_QUIRKS."""
    table = local_wh.table(case.table)
    schema = table.schema()
    full, rows = _full_read(table, None)
    n = expected_scan(table, case.expr, semantics="sql").num_rows
    total = full.num_rows
    if case.expect == "some":
        assert 0 < n < total, f"{case.id}: selects {n} of {total} rows"
    else:
        assert n == (0 if case.expect == "none" else total), f"{case.id}: selects {n}"
    if needs_evaluator(case.expr, schema) or case.table == T.LARGE:
        return  # pyiceberg cannot filter uuids; the 300k-row table is slow in pure Python
    theirs = T.oracle(table, None, to_pyiceberg(case.expr, schema))
    sql = filter_with_evaluator(full, case.expr, schema, "sql", rows)
    mimic = filter_with_evaluator(full, case.expr, schema, "pyiceberg", rows)
    if case.id in NOT_MIMICKED:
        assert mimic.num_rows != theirs.num_rows, f"pyiceberg quirk in {case.id} is gone"
    else:
        assert_same_rows(mimic, theirs, context=f"{case.id}, evaluator in pyiceberg mode")
    if case.id in PYICEBERG_QUIRKS:
        assert sql.num_rows != theirs.num_rows, f"{case.id} is no longer a pyiceberg quirk"
        assert not pyiceberg_is_sql(case.expr, schema), "the shortcut would hide the quirk"
    else:
        assert_same_rows(sql, theirs, context=f"{case.id}, sql semantics")


def test_compare_helper():
    a = pa.table({"x": pa.array([1.0, float("nan"), None]), "s": ["a", "b", None]})
    b = pa.table({"s": pa.array([None, "b", "a"], pa.large_string()),
                  "x": pa.array([None, float("nan"), 1.0])})
    assert_same_rows(a, b)  # order, NaN, nulls, string width
    assert_rows_subset(a.slice(0, 2), b)
    with pytest.raises(AssertionError, match="missing from the cache"):
        assert_same_rows(a.slice(0, 2), b)
    with pytest.raises(AssertionError, match="not in the oracle"):
        assert_rows_subset(pa.table({"x": [2.0], "s": ["a"]}), b)
    ts_us = pa.table({"t": pa.array([0, 1], pa.timestamp("us", "UTC"))})
    ts_ns = pa.table({"t": pa.array([0, 1000], pa.timestamp("ns", "+00:00"))})
    with pytest.raises(AssertionError, match=r"column 't': cache type timestamp\[ns"):
        assert_same_rows(ts_ns, ts_us)
    assert_same_rows(ts_ns, ts_us, check_types=False)
    assert_same_rows(pa.table({"t": pa.array([0, 1], pa.timestamp("us", "+00:00"))}), ts_us)
    with pytest.raises(AssertionError, match="columns missing"):
        assert_same_rows(pa.table({"x": [1]}), pa.table({"x": [1], "y": [2]}))
    with pytest.raises(AssertionError):
        assert_same_rows(pa.table({"x": [1.0, 1.0]}), pa.table({"x": [1.0]}))
    assert_same_rows(pa.table({"x": [1.0 + 1e-12]}), pa.table({"x": [1.0]}), float_rel_tol=1e-9)
    with pytest.raises(AssertionError):
        assert_same_rows(pa.table({"x": [1.0 + 1e-12]}), pa.table({"x": [1.0]}))
