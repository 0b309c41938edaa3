"""Scan requests (GetFlightInfo + DoGet per endpoint) against pyiceberg's read of the same
snapshot: full scans, projection, limit, time travel, splits; local files and S3 (moto)."""

import json
from concurrent.futures import ThreadPoolExecutor

import pyarrow.flight as flight
import pytest
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan

from support import tables as T
from support.compare import assert_rows_subset, assert_same_rows
from support.expr import and_, pred
from support.node import Node, concat

LOCAL_TABLES = [T.ALL_TYPES, T.PART_IDENTITY, T.PART_DAY, T.PART_BUCKET, T.EVOLUTION, T.LARGE,
                T.CORRUPT]


@pytest.mark.parametrize("name", LOCAL_TABLES)
def test_full_scan_local(local_node, local_wh, name):
    _, got = local_node.scan({"table": name})
    assert_same_rows(got, T.oracle(local_wh.table(name)), context=name)


@pytest.mark.parametrize("name", [T.ALL_TYPES, T.PART_IDENTITY, T.EVOLUTION])
def test_full_scan_s3(s3_node, s3_wh, name):
    _, got = s3_node.scan({"table": name})
    assert_same_rows(got, T.oracle(s3_wh.table(name)), context=f"s3 {name}")


def test_second_scan_is_served_from_cache_and_identical(local_node, local_wh):
    name = T.PART_BUCKET
    expected = T.oracle(local_wh.table(name))
    _, first = local_node.scan({"table": name})
    before = local_node.do_action("table_stats", {"table": name})
    _, second = local_node.scan({"table": name})
    after = local_node.do_action("table_stats", {"table": name})
    assert_same_rows(first, expected)
    assert_same_rows(second, expected)
    assert after["hits"] > before["hits"], (before, after)
    assert after["misses"] == before["misses"], (before, after)
    assert after["bytes_cached"] > 0


PROJECTIONS = [
    (T.ALL_TYPES, ["id"]),
    (T.ALL_TYPES, ["s", "id", "u"]),  # not in schema order
    (T.ALL_TYPES, ["dec38", "tstz", "fx", "bin", "t"]),
    (T.PART_IDENTITY, ["region"]),  # only the partition column
    (T.PART_IDENTITY, ["amount", "region"]),
    (T.PART_DAY, ["date", "value"]),
    (T.EVOLUTION, ["full_name", "extra"]),  # renamed and added columns
    (T.EVOLUTION, ["qty"]),  # promoted int -> long
]


@pytest.mark.parametrize("name,columns", PROJECTIONS,
                         ids=[f"{n}-{'+'.join(c)}" for n, c in PROJECTIONS])
def test_projection(local_node, local_wh, name, columns):
    _, got = local_node.scan({"table": name, "columns": columns})
    assert sorted(got.column_names) == sorted(columns)
    assert_same_rows(got, T.oracle(local_wh.table(name), columns), context=f"{name} {columns}")


def test_projection_s3(s3_node, s3_wh):
    columns = ["region", "qty"]
    _, got = s3_node.scan({"table": T.PART_IDENTITY, "columns": columns})
    assert_same_rows(got, T.oracle(s3_wh.table(T.PART_IDENTITY), columns))


@pytest.mark.parametrize("limit", [1, 10, 1000])
@pytest.mark.parametrize("name", [T.ALL_TYPES, T.PART_DAY, T.LARGE])
def test_limit(local_node, local_wh, name, limit):
    """`limit` caps the row count; the rows returned must all be real rows."""
    _, got = local_node.scan({"table": name, "limit": limit})
    assert 1 <= got.num_rows <= limit
    assert_rows_subset(got, T.oracle(local_wh.table(name)), context=f"{name} limit {limit}")


def test_limit_with_filter_and_projection(local_node, local_wh):
    expr = pred("eq", "region", "eu")
    _, got = local_node.scan({"table": T.PART_IDENTITY, "columns": ["id", "qty"],
                              "filter": expr, "limit": 25})
    expected = T.oracle(local_wh.table(T.PART_IDENTITY), ["id", "qty"], EqualTo("region", "eu"))
    assert 1 <= got.num_rows <= 25
    assert_rows_subset(got, expected)


def test_limit_above_row_count_returns_everything(local_node, local_wh):
    _, got = local_node.scan({"table": T.PART_BUCKET, "limit": 1_000_000})
    assert_same_rows(got, T.oracle(local_wh.table(T.PART_BUCKET)))


@pytest.fixture(scope="module")
def split_node(arrow_cache_bin, local_wh, tmp_path_factory):
    """Small splits, so that test.large (6 files of ~470 KB) plans several endpoints. The
    default split_size groups small files into 64 MB splits."""
    node = Node(tmp_path_factory.mktemp("split_node"), storage=local_wh.node_storage_config(),
                caching={"split_size": "1MB"}, name="split")
    node.start()
    yield node
    node.stop()


def test_large_table_has_several_endpoints_whose_union_is_the_table(split_node, local_wh):
    info, got = split_node.scan({"table": T.LARGE})
    assert len(info.endpoints) > 1, "6 data files of ~470 KB with 1 MB splits"
    assert_same_rows(got, T.oracle(local_wh.table(T.LARGE)))
    for ep in info.endpoints:
        for loc in ep.locations:  # single node: any location given must be this node
            assert str(split_node.flight_port) in loc.uri.decode(), loc.uri


def test_endpoints_can_be_read_in_any_order_and_concurrently(split_node, local_wh):
    info = split_node.flight_client().get_flight_info(flight.FlightDescriptor.for_command(
        json.dumps({"table": T.LARGE, "columns": ["id", "k"]}).encode()))
    assert len(info.endpoints) > 1

    def read(ep):
        client = split_node.new_flight_client()
        try:
            return client.do_get(ep.ticket).read_all()
        finally:
            client.close()

    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(read, list(reversed(info.endpoints))))
    assert_same_rows(concat(parts, info.schema),
                     T.oracle(local_wh.table(T.LARGE), ["id", "k"]))


def test_filtered_split_scan(split_node, local_wh):
    expr = and_(pred("gt-eq", "k", 90), pred("lt", "id", 250_000))
    info, got = split_node.scan({"table": T.LARGE, "filter": expr, "columns": ["id", "v"]})
    assert_same_rows(got, T.oracle(local_wh.table(T.LARGE), ["id", "v"],
                                   And(GreaterThanOrEqual("k", 90), LessThan("id", 250_000))))


def test_flight_info_schema_matches_the_data(local_node):
    info, got = local_node.scan({"table": T.ALL_TYPES, "columns": ["id", "ts", "u"]})
    assert info.schema.names == got.schema.names
    assert info.schema.equals(got.schema, check_metadata=False)


# -- time travel ---------------------------------------------------------------------------


def test_snapshot_id_reads_an_older_snapshot(local_node, local_wh):
    table = local_wh.table(T.ALL_TYPES)
    snapshots = table.snapshots()
    assert len(snapshots) >= 3
    old = snapshots[1].snapshot_id
    _, got = local_node.scan({"table": T.ALL_TYPES, "snapshot_id": old})
    expected = T.oracle(table, snapshot_id=old)
    assert expected.num_rows < T.oracle(table, ["id"]).num_rows
    assert_same_rows(got, expected)


@pytest.mark.parametrize("step", ["initial", "added", "renamed", "dropped"])
def test_snapshot_id_across_schema_changes(local_node, local_wh, step):
    """Time travel reads a snapshot with the schema it was written with (as pyiceberg does)."""
    table = local_wh.table(T.EVOLUTION)
    snap = getattr(local_wh.evolution_snapshots, step)
    _, got = local_node.scan({"table": T.EVOLUTION, "snapshot_id": snap})
    assert_same_rows(got, T.oracle(table, snapshot_id=snap), context=step)


def test_as_of_timestamp(local_node, local_wh):
    table = local_wh.table(T.PART_IDENTITY)
    second = table.snapshots()[1]
    snap = table.snapshot_as_of_timestamp(second.timestamp_ms)
    _, got = local_node.scan({"table": T.PART_IDENTITY,
                              "as_of_timestamp_ms": second.timestamp_ms})
    assert_same_rows(got, T.oracle(table, snapshot_id=snap.snapshot_id))


def test_snapshot_id_s3(s3_node, s3_wh):
    table = s3_wh.table(T.EVOLUTION)
    snap = table.snapshots()[1].snapshot_id
    _, got = s3_node.scan({"table": T.EVOLUTION, "snapshot_id": snap})
    assert_same_rows(got, T.oracle(table, snapshot_id=snap))


# -- catalog-level calls -------------------------------------------------------------------


def _described_names(info: flight.FlightInfo) -> set[str]:
    d = info.descriptor
    names = set()
    if d.path:
        names.add(".".join(p.decode() if isinstance(p, bytes) else p for p in d.path))
    if d.command:
        names.add(d.command.decode(errors="replace"))
    return names


def test_list_flights_lists_every_table(local_node):
    listed = set()
    for info in local_node.flight_client().list_flights():
        listed |= _described_names(info)
    text = " ".join(listed)
    missing = [name for name in T.STANDARD_TABLES if name not in text]
    assert not missing, f"ListFlights does not mention {missing}; it listed {sorted(listed)}"


def test_table_stats_shape(local_node):
    local_node.scan({"table": T.PART_DAY, "columns": ["id"]})
    stats = local_node.do_action("table_stats", {"table": T.PART_DAY})
    for key in ("hits", "misses", "hit_rate", "bytes_cached", "partitions"):
        assert key in stats, f"table_stats lacks {key!r}: {stats}"
    assert 0.0 <= stats["hit_rate"] <= 1.0
    assert stats["bytes_cached"] > 0


def test_refresh_then_scan(local_node, local_wh):
    local_node.do_action("refresh", {"table": T.PART_BUCKET})
    _, got = local_node.scan({"table": T.PART_BUCKET})
    assert_same_rows(got, T.oracle(local_wh.table(T.PART_BUCKET)))


def test_invalidate_empties_the_table_and_results_stay_exact(local_node, local_wh):
    name = T.PART_DAY
    local_node.scan({"table": name})
    local_node.do_action("invalidate", {"table": name})
    assert local_node.do_action("table_stats", {"table": name})["bytes_cached"] == 0
    _, got = local_node.scan({"table": name})
    assert_same_rows(got, T.oracle(local_wh.table(name)))


def test_metrics_are_exported(local_node):
    local_node.scan({"table": T.PART_BUCKET, "columns": ["id"]})
    for name in ("arrow_cache_bytes_cached", "arrow_cache_bytes_cached_peak",
                 "arrow_cache_budget_bytes", "arrow_cache_evictions_total",
                 "arrow_cache_hits_total", "arrow_cache_misses_total"):
        assert local_node.metric(name) >= 0
    assert local_node.metric("arrow_cache_bytes_cached") > 0
    assert (local_node.metric("arrow_cache_bytes_cached_peak")
            <= local_node.metric("arrow_cache_budget_bytes"))
