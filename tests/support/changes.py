"""Commits and the reads that must follow them (issue 6): new tables with derived rows, and the
check every freshness test makes, that a read equals pyiceberg's read of the snapshot and schema
the node reports in its FlightInfo."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue, GreaterThanOrEqual, LessThan
from pyiceberg.io.pyarrow import ArrowScan, schema_to_pyarrow
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import BucketTransform
from pyiceberg.types import DecimalType, FloatType, IntegerType, LongType, NestedField, StringType

from . import tables as T
from .compare import assert_same_rows
from .node import Node
from .protocol import ScanAppMetadata, ScanRequest

BASE = Schema(NestedField(1, "id", LongType(), required=False),
              NestedField(2, "small", IntegerType(), required=False),
              NestedField(3, "f", FloatType(), required=False),
              NestedField(4, "price", DecimalType(9, 2), required=False),
              NestedField(5, "s", StringType(), required=False))

_names = itertools.count()


def new_table(wh: T.Warehouse, schema: Schema, spec: PartitionSpec | None = None):
    """A new table and its name."""
    name = f"{T.NAMESPACE}.fresh_{next(_names)}"
    return T._create(wh, name, schema, spec), name


def rows_for(table, ids: range) -> pa.Table:
    """Rows with these ids under the table's current schema (values derived from the id)."""
    schema = schema_to_pyarrow(table.schema())
    columns = {}
    for f in schema:
        t = f.type
        if f.name == "id":
            columns[f.name] = pa.array(list(ids), t)
        elif pa.types.is_integer(t):
            columns[f.name] = pa.array([(i * 7) % 101 - 50 for i in ids], t)
        elif pa.types.is_floating(t):
            columns[f.name] = pa.array([((i * 13) % 64) / 8.0 for i in ids], t)
        elif pa.types.is_decimal(t):
            columns[f.name] = pa.array([decimal.Decimal(i % 1000) / 100 for i in ids], t)
        elif pa.types.is_date(t):
            columns[f.name] = pa.array([dt.date(2026, 1, 1 + i % 28) for i in ids], t)
        else:
            columns[f.name] = pa.array([f"s{i % 17}" for i in ids], t)
    return pa.table(columns, schema=schema)


def scan(node: Node, request: ScanRequest | dict) -> tuple[dict, pa.Table]:
    """A scan request; returns the FlightInfo's app_metadata (snapshot and schema read) and rows."""
    info, rows = node.scan(request)
    return ScanAppMetadata.from_json(info.app_metadata).to_json(), rows


def expected(wh: T.Warehouse, name: str, snapshot_id: int | None, schema_id: int,
             row_filter=None) -> pa.Table:
    """pyiceberg's read of `snapshot_id` with schema `schema_id`: what the node must return for
    what it reports. (A current read uses the table's schema, which may be newer than the
    snapshot's: a column added since the last commit reads as nulls.)"""
    table = wh.table(name)
    schema = table.schemas()[schema_id]
    if snapshot_id is None:
        return schema_to_pyarrow(schema).empty_table()
    tasks = table.scan(snapshot_id=snapshot_id, row_filter=row_filter or AlwaysTrue()).plan_files()
    return ArrowScan(table.metadata, table.io, schema, row_filter or AlwaysTrue()).to_table(tasks)


def assert_reported_read(node: Node, wh: T.Warehouse, name: str, request: dict | None = None,
                         row_filter=None) -> dict:
    meta, got = scan(node, ScanRequest.from_json({"table": name, **(request or {})}))
    assert_same_rows(got, expected(wh, name, meta["snapshot_id"], meta["schema_id"], row_filter))
    return meta




# The commits a writer makes, by name (see Writer.commit).
OPS = ["append", "delete", "overwrite", "add_column", "rename", "promote", "drop", "partition"]


class Writer:
    """Commits named changes to one table, as a writer would: appends of new ids, deletes and
    overwrites of the ids below or above `cut`, schema changes (add, rename, int->long, drop) and
    a partition spec change (bucket on id). Each reads the table fresh from the catalog."""

    def __init__(self, wh: T.Warehouse, name: str):
        self.wh, self.name = wh, name
        self.next_id = 0
        self._extra = itertools.count()

    def commit(self, op: str, cut: int = 100) -> None:
        t = self.wh.table(self.name)
        names = [f.name for f in t.schema().fields if f.name != "id"]
        if op == "append":
            t.append(rows_for(t, range(self.next_id, self.next_id + 120)))
            self.next_id += 120
        elif op == "delete":
            t.delete(LessThan("id", cut))
        elif op == "overwrite":
            t.overwrite(rows_for(t, range(self.next_id, self.next_id + 60)),
                        overwrite_filter=GreaterThanOrEqual("id", cut))
            self.next_id += 60
        elif op == "add_column":
            with t.update_schema() as u:
                u.add_column(f"c{next(self._extra)}", LongType())
        elif op == "rename" and names:
            with t.update_schema() as u:
                u.rename_column(names[0], f"r{next(self._extra)}")
        elif op == "promote":
            ints = [f.name for f in t.schema().fields if isinstance(f.field_type, IntegerType)]
            if ints:
                with t.update_schema() as u:
                    u.update_column(ints[0], field_type=LongType())
        elif op == "drop" and len(names) > 1:
            with t.update_schema() as u:
                u.delete_column(names[-1])
        elif op == "partition" and not t.spec().fields:
            with t.update_spec() as u:
                u.add_field("id", BucketTransform(4), "id_bucket")
