"""Fresh and exact under change (issue 6): a writer (pyiceberg) commits appends, overwrites,
deletes, schema and partition changes while the node serves the table; every result equals
pyiceberg's read of the snapshot (and schema) the node reports in its FlightInfo.

Spark-written merge-on-read deletes are tested in the JVM suite (jvm-connector/spark, DeletesTest):
pyiceberg 0.12 writes copy-on-write only."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyiceberg.expressions import EqualTo, GreaterThanOrEqual, LessThan
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (DateType, DecimalType, DoubleType, IntegerType, LongType,
                             NestedField, StringType)

from support import tables as T
from support.changes import OPS as WRITES
from support.changes import BASE, Writer, assert_reported_read, expected, new_table, rows_for, scan
from support.compare import assert_same_rows
from support.node import Node, grpc_status, server_message


@pytest.fixture()
def wh(tmp_path) -> T.Warehouse:
    return T.local_warehouse(tmp_path / "wh")


def start_node(tmp_path, wh, **caching) -> Node:
    return Node(tmp_path / "node", storage=wh.node_storage_config(), caching=caching).start()



def test_schema_changes_without_a_new_snapshot_are_seen(tmp_path, wh):
    """Iceberg changes a schema without a new snapshot; a current read sees the table's schema,
    as Spark's and pyiceberg's reads do, and time travel keeps the old one."""
    table, name = new_table(wh, BASE)
    table.append(rows_for(table, range(0, 300)))
    first = wh.table(name).current_snapshot().snapshot_id
    with start_node(tmp_path, wh) as node:
        assert_reported_read(node, wh, name)
        with table.update_schema() as update:
            update.add_column("added", StringType())
            update.rename_column("s", "label")
            update.update_column("small", field_type=LongType())        # int -> long
            update.update_column("f", field_type=DoubleType())          # float -> double
            update.update_column("price", field_type=DecimalType(18, 2))  # decimal widening
        with table.update_schema() as update:
            update.move_first("label")
        node.do_action("refresh", {"table": name})
        meta = assert_reported_read(node, wh, name)
        assert meta["snapshot_id"] == first and meta["schema_id"] == wh.table(name).schema().schema_id
        got = node.sql(f"SELECT * FROM {name}")
        assert got.column_names == [f.name for f in wh.table(name).schema().fields]
        assert got.column("added").null_count == 300 and got.schema.field("small").type == pa.int64()
        assert_same_rows(got, T.oracle(wh.table(name)))

        # New data under the new schema; old snapshots keep their schema.
        table = wh.table(name)
        table.append(rows_for(table, range(300, 500)))
        with table.update_schema() as update:
            update.delete_column("added")
        node.do_action("refresh", {"table": name})
        assert_reported_read(node, wh, name, row_filter=None)
        assert_reported_read(node, wh, name, {"filter": {"type": "gt-eq", "term": "id", "value": 250}},
                             GreaterThanOrEqual("id", 250))
        old = assert_reported_read(node, wh, name, {"snapshot_id": first})
        assert old["schema_id"] == 0
        assert_same_rows(node.scan({"table": name, "snapshot_id": first})[1],
                         T.oracle(wh.table(name), snapshot_id=first))


def test_partition_spec_evolution_reads_old_and_new_files(tmp_path, wh):
    schema = Schema(NestedField(1, "id", LongType(), required=False),
                    NestedField(2, "s", StringType(), required=False),
                    NestedField(3, "day", DateType(), required=False))
    table, name = new_table(wh, schema, PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "s")))
    table.append(rows_for(table, range(0, 400)))
    with table.update_spec() as update:
        update.remove_field("s")
        update.add_field("day", DayTransform(), "day_day")
    table.append(rows_for(table, range(400, 900)))
    with table.update_sort_order() as order:  # sort order changes do not change what is read
        order.asc("id", IdentityTransform())
    table.append(rows_for(table, range(900, 1000)))
    specs = {task.file.spec_id for task in wh.table(name).scan().plan_files()}
    assert len(specs) == 2, specs
    with start_node(tmp_path, wh) as node:
        assert_reported_read(node, wh, name)
        for request, row_filter in [
            ({"filter": {"type": "eq", "term": "s", "value": "s3"}}, None),
            ({"filter": {"type": "lt", "term": "id", "value": 450}}, LessThan("id", 450)),
            ({"filter": {"type": "eq", "term": "day", "value": "2026-01-05"}}, None),
        ]:
            meta, got = scan(node, {"table": name, **request})
            f = request["filter"]
            row_filter = row_filter or EqualTo(f["term"], f["value"])
            assert_same_rows(got, expected(wh, name, meta["snapshot_id"], meta["schema_id"], row_filter))
            q = {"eq": "=", "lt": "<"}[f["type"]]
            value = f"'{f['value']}'" if isinstance(f["value"], str) else f["value"]
            if f["term"] == "day":
                value = f"DATE {value}"
            sql = node.sql(f"SELECT * FROM {name} WHERE {f['term']} {q} {value}")
            assert_same_rows(sql, got)


def test_branches_and_tags(tmp_path, wh):
    table, name = new_table(wh, BASE)
    table.append(rows_for(table, range(0, 100)))
    first = wh.table(name).current_snapshot().snapshot_id
    wh.table(name).manage_snapshots().create_tag(first, "v1").create_branch(first, "audit").commit()
    table = wh.table(name)
    table.append(rows_for(table, range(100, 250)))
    with start_node(tmp_path, wh) as node:
        for ref in [{"tag": "v1"}, {"branch": "audit"}]:
            meta = assert_reported_read(node, wh, name, ref)
            assert meta["snapshot_id"] == first, ref
        meta = assert_reported_read(node, wh, name, {"branch": "main"})
        assert meta["snapshot_id"] == wh.table(name).current_snapshot().snapshot_id
        with pytest.raises(pa.ArrowException) as e:
            node.scan({"table": name, "tag": "nope"})
        assert grpc_status(e.value) == "NOT_FOUND" and "no branch or tag `nope`" in server_message(e.value)
        with pytest.raises(pa.ArrowException) as e:
            node.scan({"table": name, "tag": "v1", "snapshot_id": first})
        assert grpc_status(e.value) == "INVALID_ARGUMENT" and "not snapshot_id and tag" in server_message(e.value)


def test_streaming_commits_are_served_within_one_poll_interval(tmp_path, wh):
    """A writer commits every few hundred ms; with `poll_interval_ms` the node finds each commit
    by itself (TTL 600 s, no refresh), and every read is exact for the snapshot it reports."""
    table, name = new_table(wh, BASE)
    table.append(rows_for(table, range(0, 50)))
    poll_ms = 400
    with start_node(tmp_path, wh, ttl_seconds=600, poll_interval_ms=poll_ms) as node:
        assert_reported_read(node, wh, name)
        commits: list[tuple[int, float]] = []
        done = threading.Event()

        def writer():
            t = wh.table(name)
            for k in range(1, 9):
                t.append(rows_for(t, range(k * 50, (k + 1) * 50)))
                commits.append((t.current_snapshot().snapshot_id, time.monotonic()))
                time.sleep(0.3)
            done.set()

        seen: set[int] = set()
        thread = threading.Thread(target=writer)
        thread.start()
        while not done.is_set():
            seen.add(assert_reported_read(node, wh, name)["snapshot_id"])
        thread.join()
        last, at = commits[-1]
        deadline = at + poll_ms / 1000 + 3.0  # one poll interval, plus slack for a busy machine
        while time.monotonic() < deadline:
            meta = assert_reported_read(node, wh, name)
            if meta["snapshot_id"] == last:
                break
            time.sleep(0.05)
        assert meta["snapshot_id"] == last, f"the last commit was not served within {deadline - at:.1f} s"
        assert len(seen) >= 3, f"the reader saw only snapshots {seen} while 8 commits landed"


def test_files_no_snapshot_references_leave_the_cache(tmp_path, wh):
    """When a new snapshot stops referencing files (an overwrite, a delete of whole files), the
    node drops them from the cache as soon as it loads that snapshot; files still referenced
    stay; time travel to the old snapshot still reads exactly (loading them again)."""
    with start_node(tmp_path, wh, ttl_seconds=600) as node:
        table, name = new_table(wh, BASE)
        table.append(rows_for(table, range(0, 500)))
        old = assert_reported_read(node, wh, name)
        cached = node.do_action("table_stats", {"table": name})["bytes_cached"]
        assert cached > 0

        # An append keeps every file: nothing is dropped.
        table.append(rows_for(table, range(500, 600)))
        node.do_action("refresh", {"table": name})
        time.sleep(0.5)
        assert node.do_action("table_stats", {"table": name})["bytes_cached"] >= cached

        # An overwrite of everything: no cached file is referenced any more.
        table.overwrite(rows_for(table, range(1000, 1100)))
        node.do_action("refresh", {"table": name})
        deadline = time.monotonic() + 10
        while node.do_action("table_stats", {"table": name})["bytes_cached"] > 0:
            assert time.monotonic() < deadline, "files the overwrite dropped are still cached"
            time.sleep(0.1)
        assert_reported_read(node, wh, name)
        assert_reported_read(node, wh, name, {"snapshot_id": old["snapshot_id"]})


# --------------------------------------------------------------------------------------------
# Random sequences of commits and queries

# Appends and queries twice as likely as the rest.
OPS = ["append", *WRITES, "refresh", "query", "query"]


@pytest.fixture(scope="module")
def random_env(arrow_cache_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("random")
    wh = T.local_warehouse(root / "wh")
    # A long TTL and no polling: what a query sees changes only on `refresh`, so the test
    # checks both that reads are exact for the (maybe older) snapshot they report and that a
    # refresh makes the newest one visible.
    node = Node(root / "node", storage=wh.node_storage_config(), caching={"ttl_seconds": 600}).start()
    yield wh, node
    node.stop()


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(st.sampled_from(OPS), min_size=4, max_size=12),
       cut=st.integers(min_value=0, max_value=400))
def test_random_commits_and_queries_are_exact(random_env, ops, cut):
    wh, node = random_env
    _, name = new_table(wh, Schema(NestedField(1, "id", LongType(), required=False),
                                   NestedField(2, "n", IntegerType(), required=False),
                                   NestedField(3, "s", StringType(), required=False)))
    writer = Writer(wh, name)
    for op in ops + ["refresh", "query"]:
        if op in WRITES:
            writer.commit(op, cut)
        elif op == "refresh":
            node.do_action("refresh", {"table": name})
            meta = assert_reported_read(node, wh, name)
            now = wh.table(name)
            assert meta["snapshot_id"] == (now.current_snapshot().snapshot_id if now.current_snapshot() else None)
            assert meta["schema_id"] == now.schema().schema_id
        elif op == "query":
            assert_reported_read(node, wh, name)
            assert_reported_read(node, wh, name, {"filter": {"type": "lt", "term": "id", "value": cut}},
                                 LessThan("id", cut))
