"""Test tables, written with pyiceberg (the real writer: real manifests, stats and partitions),
and the oracle: pyiceberg's own read of the same snapshot.

Every writer is deterministic (fixed seeds), so a failure reproduces with the same data.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

NAMESPACE = "test"
CATALOG_NAME = "default"
UTC = dt.timezone.utc


# --------------------------------------------------------------------------------------------
# Catalogs


@dataclass
class Warehouse:
    """A pyiceberg catalog (SQLite, or a REST server) plus what a node needs to read the same
    tables."""

    catalog: Catalog
    catalog_uri: str  # sqlite:////abs/path/catalog.db or http://host:port
    warehouse: str  # file:///abs/path/warehouse or s3://bucket/wh
    object_store: dict | None = None  # the node's storage.object_store section, None for local
    tables: dict[str, Table] = field(default_factory=dict)  # "ns.tbl" -> pyiceberg table
    catalog_type: str = "sql"  # the node's storage.iceberg.catalog_type
    catalog_properties: dict = field(default_factory=dict)  # ... and its properties

    def node_storage_config(self) -> dict:
        storage = {
            "iceberg": {
                "catalog_type": self.catalog_type,
                "catalog_uri": self.catalog_uri,
                "catalog_name": CATALOG_NAME,
                "warehouse": self.warehouse,
            }
        }
        if self.catalog_properties:
            storage["iceberg"]["properties"] = dict(self.catalog_properties)
        if self.object_store:
            storage["object_store"] = dict(self.object_store)
        return storage

    def table(self, name: str) -> Table:
        """The table as the catalog has it now (fresh metadata)."""
        return self.catalog.load_table(name)


def local_warehouse(root: Path) -> Warehouse:
    root = root.resolve()
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root}/catalog.db"  # absolute path -> four slashes
    wh = f"file://{root}/warehouse"
    catalog = SqlCatalog(CATALOG_NAME, uri=uri, warehouse=wh)
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return Warehouse(catalog, uri, wh)


def rest_warehouse(uri: str, warehouse: str) -> Warehouse:
    """A REST catalog server at `uri` whose tables live under `warehouse` (file://)."""
    catalog = load_catalog("rest", type="rest", uri=uri)
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return Warehouse(catalog, uri, warehouse, catalog_type="rest")


def write_core_tables(wh: Warehouse) -> Warehouse:
    """all_types, part_identity and evolution (its snapshots kept in `wh.evolution_snapshots`):
    the subset of the standard tables that the per-store and per-catalog suites read."""
    write_all_types(wh)
    write_part_identity(wh)
    _, wh.evolution_snapshots = write_evolution(wh)
    return wh


def s3_warehouse(root: Path, endpoint: str, bucket: str, access_key: str, secret_key: str,
                 region: str) -> Warehouse:
    """Catalog in a local SQLite file, data and metadata in S3 (moto)."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root}/catalog.db"
    wh = f"s3://{bucket}/wh"
    catalog = SqlCatalog(CATALOG_NAME, uri=uri, warehouse=wh,
                         **_s3_file_io(endpoint, access_key, secret_key, region))
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return Warehouse(catalog, uri, wh, _s3_object_store(endpoint, access_key, secret_key, region))


def glue_warehouse(endpoint: str, bucket: str, access_key: str, secret_key: str,
                   region: str) -> Warehouse:
    """Tables in a Glue Data Catalog (moto's Glue API), files in S3 on the same moto server;
    pyiceberg's GlueCatalog writes both."""
    from pyiceberg.catalog.glue import GlueCatalog

    wh = f"s3://{bucket}/glue"
    glue = {"glue.region": region, "glue.access-key-id": access_key,
            "glue.secret-access-key": secret_key}
    catalog = GlueCatalog(CATALOG_NAME, warehouse=wh, **{"glue.endpoint": endpoint}, **glue,
                          **_s3_file_io(endpoint, access_key, secret_key, region))
    catalog.create_namespace_if_not_exists(NAMESPACE)
    return Warehouse(catalog, endpoint, wh, _s3_object_store(endpoint, access_key, secret_key, region),
                     catalog_type="glue", catalog_properties=glue)


def _s3_file_io(endpoint: str, access_key: str, secret_key: str, region: str) -> dict:
    """pyiceberg's S3 FileIO properties for moto."""
    return {
        "s3.endpoint": endpoint,
        "s3.access-key-id": access_key,
        "s3.secret-access-key": secret_key,
        "s3.region": region,
        "s3.force-virtual-addressing": False,  # path-style: moto has no per-bucket hosts
    }


def _s3_object_store(endpoint: str, access_key: str, secret_key: str, region: str) -> dict:
    """The node's storage.object_store section for moto."""
    return {
        "type": "s3",
        "endpoint": endpoint,
        "region": region,
        "access_key_id": access_key,
        "secret_access_key": secret_key,
        "path_style": True,
        "allow_http": True,
    }


# --------------------------------------------------------------------------------------------
# The oracle


def oracle(table: Table, columns: list[str] | None = None,
           row_filter: BooleanExpression | None = None, snapshot_id: int | None = None,
           ) -> pa.Table:
    """pyiceberg's read of the table: what the cache must return for the same request."""
    selected = tuple(columns) if columns else ("*",)
    return table.scan(row_filter=row_filter or AlwaysTrue(), selected_fields=selected,
                      snapshot_id=snapshot_id).to_arrow()


def data_files(table: Table) -> list[str]:
    """Paths (URIs) of the current snapshot's data files."""
    # Not table.inspect.files(): its readable metrics cannot hold uuid bounds (pyarrow error).
    return [task.file.file_path for task in table.scan().plan_files()]


def _create(wh: Warehouse, name: str, schema: Schema, spec: PartitionSpec | None = None) -> Table:
    kwargs = {"partition_spec": spec} if spec is not None else {}
    table = wh.catalog.create_table(name, schema, **kwargs)
    wh.tables[name] = table
    return table


def _arrow(table: Table, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema_to_pyarrow(table.schema()))


# --------------------------------------------------------------------------------------------
# all_types: every primitive type pyiceberg writes (format v2), with nulls, NaN, +-inf, -0.0,
# extremes, empty strings/binaries, multi-byte UTF-8, LIKE metacharacters and unsigned bytes.

ALL_TYPES = f"{NAMESPACE}.all_types"

ALL_TYPES_SCHEMA = Schema(
    NestedField(1, "id", LongType()),
    NestedField(2, "b", BooleanType()),
    NestedField(3, "i", IntegerType()),
    NestedField(4, "l", LongType()),
    NestedField(5, "f", FloatType()),
    NestedField(6, "d", DoubleType()),
    NestedField(7, "dec9", DecimalType(9, 2)),
    NestedField(8, "dec38", DecimalType(38, 10)),
    NestedField(9, "dt", DateType()),
    NestedField(10, "t", TimeType()),
    NestedField(11, "ts", TimestampType()),
    NestedField(12, "tstz", TimestamptzType()),
    NestedField(13, "s", StringType()),
    NestedField(14, "u", UUIDType()),
    NestedField(15, "fx", FixedType(16)),
    NestedField(16, "bin", BinaryType()),
)

# Values the filter cases use as literals; the writer makes sure each occurs in the data.
PROBE = {
    "i": 7,
    "l": 7_000_000_049,
    "f": 1.5,
    "d": 2.5,
    "dec9": Decimal("12.34"),
    "dec38": Decimal("-1234567890123456789.0123456789"),
    "dt": dt.date(2024, 1, 1),
    "t": dt.time(10, 0, 0),
    "ts": dt.datetime(2024, 1, 1, 10, 0, 0),
    "tstz": dt.datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC),
    "s": "abc",
    "u": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "fx": bytes(range(16)),
    "bin": b"\x00\x01\xfe",
}

STRINGS = ["", "a", "ab", "abc", "abd", "abcd", "b", "B", "Z", "z", "é", "éa", "日本", "日本語",
           "a b", "ab%", "ab_x", "a%c", "_", "%", "\x00x", "emoji 🙂", "tail "]


def _all_types_row(rng: random.Random, row_id: int) -> dict:
    def maybe(value, p_null=0.06):
        return None if rng.random() < p_null else value

    ts = dt.datetime(2024, 1, 1) + dt.timedelta(seconds=rng.randint(-30_000_000, 30_000_000),
                                                microseconds=rng.randint(0, 999_999))
    s = rng.choice(STRINGS) if rng.random() < 0.6 else "".join(
        rng.choice("abcxyzABC é日") for _ in range(rng.randint(0, 12)))
    return {
        "id": row_id,
        "b": maybe(rng.random() < 0.5),
        "i": maybe(rng.randint(-50, 50)),
        "l": maybe(rng.randint(-1000, 1000) * 1_000_000_007),
        "f": maybe(rng.randint(-400, 400) / 4),  # quarter steps: exact in float32
        "d": maybe(rng.randint(-2_000_000, 2_000_000) / 2),
        "dec9": maybe(Decimal(rng.randint(-99_999_999, 99_999_999)).scaleb(-2)),
        "dec38": maybe(Decimal(rng.randint(-10**27, 10**27)).scaleb(-10)),
        "dt": maybe(dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(-400, 400))),
        "t": maybe(dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                           rng.choice([0, rng.randint(0, 999_999)]))),
        "ts": maybe(ts),
        "tstz": maybe(ts.replace(tzinfo=UTC) + dt.timedelta(hours=rng.randint(-12, 12))),
        "s": maybe(s),
        "u": maybe(uuid.UUID(int=rng.getrandbits(128))),
        "fx": maybe(rng.randbytes(16)),
        "bin": maybe(rng.randbytes(rng.randint(0, 24))),
    }


def _all_types_special_rows(first_id: int) -> list[dict]:
    cols = [f.name for f in ALL_TYPES_SCHEMA.fields if f.name != "id"]
    rows = []
    # Rows that are null in every column but id.
    for _ in range(3):
        rows.append({"id": first_id + len(rows), **{c: None for c in cols}})
    # Rows holding the probe literals, with every other column null and then not null.
    rows.append({"id": first_id + len(rows), **PROBE})
    rows.append({"id": first_id + len(rows), **{c: None for c in cols}, "s": "abc", "i": 7})
    # Float specials: NaN, +-inf, -0.0, extremes, subnormal.
    for f, d in [(float("nan"), float("nan")), (float("inf"), float("-inf")),
                 (float("-inf"), float("inf")), (-0.0, -0.0), (0.0, 5e-324),
                 (3.4028234663852886e38, 1.7976931348623157e308), (float("nan"), None),
                 (None, float("nan"))]:
        rows.append({"id": first_id + len(rows), **{c: None for c in cols}, "f": f, "d": d,
                     "i": -1})
    # Integer / decimal / temporal extremes; pre-epoch values round towards -inf.
    rows.append({
        "id": first_id + len(rows), "b": False, "i": -(2**31), "l": -(2**63), "f": -1.25,
        "d": -1e300, "dec9": Decimal("-9999999.99"),
        "dec38": Decimal("-9999999999999999999999999999.9999999999"),
        "dt": dt.date(1900, 1, 1), "t": dt.time(0, 0, 0),
        "ts": dt.datetime(1960, 6, 1, 12, 0, 0, 1),
        "tstz": dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        "s": "", "u": uuid.UUID(int=0), "fx": b"\x00" * 16, "bin": b"",
    })
    rows.append({
        "id": first_id + len(rows), "b": True, "i": 2**31 - 1, "l": 2**63 - 1, "f": 1e30,
        "d": 1e300, "dec9": Decimal("9999999.99"),
        "dec38": Decimal("9999999999999999999999999999.9999999999"),
        "dt": dt.date(2262, 4, 11), "t": dt.time(23, 59, 59, 999_999),
        "ts": dt.datetime(2262, 4, 11, 23, 47, 16, 854_775),
        "tstz": dt.datetime(2200, 1, 1, tzinfo=UTC),
        "s": "\U0010ffff", "u": uuid.UUID(int=2**128 - 1), "fx": b"\xff" * 16,
        "bin": b"\xff\x80",
    })
    return rows


def write_all_types(wh: Warehouse, rows_per_append: int = 900, appends: int = 4,
                    seed: int = 20240101) -> Table:
    """~3.6k rows in `appends` data files; the special rows land in the second file."""
    table = _create(wh, ALL_TYPES, ALL_TYPES_SCHEMA)
    rng = random.Random(seed)
    next_id = 0
    for a in range(appends):
        rows = [_all_types_row(rng, next_id + k) for k in range(rows_per_append)]
        next_id += rows_per_append
        if a == 1:
            specials = _all_types_special_rows(next_id)
            next_id += len(specials)
            rows.extend(specials)
        table.append(_arrow(table, rows))
    return table


# --------------------------------------------------------------------------------------------
# Partitioned tables


PART_IDENTITY = f"{NAMESPACE}.part_identity"
PART_DAY = f"{NAMESPACE}.part_day"
PART_BUCKET = f"{NAMESPACE}.part_bucket"

REGIONS = ["us", "eu", "ap", "sa", "é-1"]


def write_part_identity(wh: Warehouse, seed: int = 11) -> Table:
    """identity(region); a few rows have a null region (the null partition)."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "region", StringType()),
        NestedField(3, "qty", IntegerType()),
        NestedField(4, "amount", DoubleType()),
        NestedField(5, "note", StringType()),
    )
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "region"))
    table = _create(wh, PART_IDENTITY, schema, spec)
    rng = random.Random(seed)
    next_id = 0
    for _ in range(3):  # 3 appends x 5(+null) partitions -> ~18 data files
        rows = []
        for _ in range(700):
            rows.append({
                "id": next_id,
                "region": None if rng.random() < 0.03 else rng.choice(REGIONS),
                "qty": None if rng.random() < 0.05 else rng.randint(0, 20),
                "amount": rng.choice([float("nan"), None]) if rng.random() < 0.04
                else rng.randint(-10_000, 10_000) / 4,
                "note": rng.choice(["", "promo", "prom", "refund", None, "PROMO"]),
            })
            next_id += 1
        table.append(_arrow(table, rows))
    return table


def write_part_day(wh: Warehouse, seed: int = 12) -> Table:
    """day(ts); `date` mirrors the CONTRACT's demo column name (a SQL keyword)."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "ts", TimestampType()),
        NestedField(3, "date", DateType()),
        NestedField(4, "event", StringType()),
        NestedField(5, "value", LongType()),
    )
    spec = PartitionSpec(PartitionField(2, 1000, DayTransform(), "ts_day"))
    table = _create(wh, PART_DAY, schema, spec)
    rng = random.Random(seed)
    start = dt.datetime(2023, 12, 26)
    next_id = 0
    for _ in range(3):
        rows = []
        for _ in range(600):
            ts = start + dt.timedelta(seconds=rng.randint(0, 14 * 86400 - 1),
                                      microseconds=rng.randint(0, 999_999))
            null_ts = rng.random() < 0.02
            rows.append({
                "id": next_id,
                "ts": None if null_ts else ts,
                "date": None if null_ts else ts.date(),
                "event": rng.choice(["click", "view", "buy", None]),
                "value": rng.randint(-1000, 1000),
            })
            next_id += 1
        table.append(_arrow(table, rows))
    return table


BUCKET_IDS = [0, 1, 2, 42, -7, 12345, -50_000]


def write_part_bucket(wh: Warehouse, seed: int = 13) -> Table:
    """bucket[8](id)."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "name", StringType()),
        NestedField(3, "score", FloatType()),
    )
    spec = PartitionSpec(PartitionField(1, 1000, BucketTransform(8), "id_bucket"))
    table = _create(wh, PART_BUCKET, schema, spec)
    rng = random.Random(seed)
    for a in range(2):
        ids = [i for i in rng.sample(range(-50_000, 50_000), 1500) if i not in BUCKET_IDS]
        if a == 0:
            ids += BUCKET_IDS  # ids the filter cases name
        rows = [{"id": i, "name": f"n{abs(i) % 97}",
                 "score": None if rng.random() < 0.05 else rng.randint(-80, 80) / 8}
                for i in ids]
        rows.append({"id": None, "name": "null-id", "score": 0.0})
        table.append(_arrow(table, rows))
    return table


# --------------------------------------------------------------------------------------------
# Schema evolution: each step writes more rows, so older files lack new columns, carry old
# names, dropped columns and narrower types.

EVOLUTION = f"{NAMESPACE}.evolution"


@dataclass
class EvolutionSnapshots:
    initial: int  # snapshot ids after each step's write
    added: int
    renamed: int
    dropped: int
    promoted: int


def write_evolution(wh: Warehouse, seed: int = 14) -> tuple[Table, EvolutionSnapshots]:
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "name", StringType()),
        NestedField(3, "legacy", StringType()),
        NestedField(4, "qty", IntegerType()),
        NestedField(5, "price", FloatType()),
    )
    table = _create(wh, EVOLUTION, schema)
    rng = random.Random(seed)
    next_id = 0
    snaps = []

    def write(n: int, make) -> None:
        nonlocal next_id
        rows = []
        for _ in range(n):
            rows.append(make(next_id))
            next_id += 1
        table.append(_arrow(table, rows))
        snaps.append(table.current_snapshot().snapshot_id)

    def qty():
        return None if rng.random() < 0.05 else rng.randint(-100, 100)

    write(400, lambda i: {"id": i, "name": f"name{i % 13}", "legacy": f"old{i % 5}",
                          "qty": qty(), "price": rng.randint(0, 400) / 4})

    with table.update_schema() as update:  # step 1: add a column
        update.add_column("extra", StringType())
    write(300, lambda i: {"id": i, "name": f"name{i % 13}", "legacy": f"old{i % 5}",
                          "qty": qty(), "price": rng.randint(0, 400) / 4,
                          "extra": rng.choice(["x", "y", None])})

    with table.update_schema() as update:  # step 2: rename a column
        update.rename_column("name", "full_name")
    write(300, lambda i: {"id": i, "full_name": f"name{i % 13}", "legacy": f"old{i % 5}",
                          "qty": qty(), "price": rng.randint(0, 400) / 4,
                          "extra": rng.choice(["x", "z", None])})

    with table.update_schema() as update:  # step 3: drop a column
        update.delete_column("legacy")
    write(300, lambda i: {"id": i, "full_name": f"name{i % 13}", "qty": qty(),
                          "price": rng.randint(0, 400) / 4, "extra": "w"})

    with table.update_schema() as update:  # step 4: promote int -> long, float -> double
        update.update_column("qty", LongType())
        update.update_column("price", DoubleType())
    write(300, lambda i: {"id": i, "full_name": f"name{i % 13}", "qty": 2**40 + i,
                          "price": rng.randint(0, 400) / 4 + 0.1, "extra": "v"})

    return table, EvolutionSnapshots(*snaps)


# --------------------------------------------------------------------------------------------
# Large tables (vectorised: pylist is too slow at this size)

LARGE = f"{NAMESPACE}.large"


def write_large(wh: Warehouse, rows: int = 300_000, files: int = 6, seed: int = 15) -> Table:
    """300k rows in 6 unpartitioned data files: should give more than one split."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "k", IntegerType()),
        NestedField(3, "v", DoubleType()),
        NestedField(4, "s", StringType()),
    )
    table = _create(wh, LARGE, schema)
    rng = np.random.default_rng(seed)
    per_file = rows // files
    for f in range(files):
        ids = np.arange(f * per_file, (f + 1) * per_file, dtype=np.int64)
        k = rng.integers(0, 100, per_file, dtype=np.int32)
        batch = pa.table({
            "id": ids,
            "k": pa.array(k, pa.int32()),
            "v": rng.integers(-10**6, 10**6, per_file) / 8.0,
            "s": pa.array([f"s{x}" for x in (ids % 1000)], pa.large_string()),
        }, schema=schema_to_pyarrow(table.schema()))
        table.append(batch)
    return table


EVICT = f"{NAMESPACE}.evict"


def write_evict(wh: Warehouse, rows: int = 800_000, parts: int = 16, seed: int = 16) -> Table:
    """~40 MB decoded (8 + 4 + 8 + ~30 bytes a row), identity(part) with 16 partitions of
    ~2.5 MB each, so one partition fits a small cache but the table does not."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "part", IntegerType()),
        NestedField(3, "v", DoubleType()),
        NestedField(4, "payload", StringType()),
    )
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "part"))
    table = _create(wh, EVICT, schema, spec)
    rng = np.random.default_rng(seed)
    ids = np.arange(rows, dtype=np.int64)
    payload = [f"{x:016x}-{x % 9973:010d}" for x in rng.integers(0, 2**62, rows)]  # 27 chars
    table.append(pa.table({
        "id": ids,
        "part": pa.array(ids % parts, pa.int32()),
        "v": rng.integers(-10**6, 10**6, rows) / 4.0,
        "payload": pa.array(payload, pa.large_string()),
    }, schema=schema_to_pyarrow(table.schema())))
    return table


MANY_FILES = f"{NAMESPACE}.many_files"


def write_many_files(wh: Warehouse, parts: int = 60, appends: int = 2, seed: int = 17) -> Table:
    """identity(part) over 60 parts, appended twice: 120 small data files, enough for placement
    over a few nodes to show (splits spread, movement on join close to 1/N)."""
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "part", IntegerType()),
        NestedField(3, "v", DoubleType()),
        NestedField(4, "s", StringType()),
    )
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "part"))
    table = _create(wh, MANY_FILES, schema, spec)
    rng = np.random.default_rng(seed)
    rows = parts * 150
    for a in range(appends):
        ids = np.arange(a * rows, (a + 1) * rows, dtype=np.int64)
        table.append(pa.table({
            "id": ids,
            "part": pa.array(ids % parts, pa.int32()),
            "v": rng.integers(-10**6, 10**6, rows) / 8.0,
            "s": pa.array([f"s{x % 97}" for x in ids], pa.large_string()),
        }, schema=schema_to_pyarrow(table.schema())))
    return table


CORRUPT = f"{NAMESPACE}.corrupt"


def write_corrupt_candidate(wh: Warehouse) -> Table:
    """A small 3-file table that test_bad_input damages and repairs; nothing else reads it."""
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "s", StringType()))
    table = _create(wh, CORRUPT, schema)
    for f in range(3):
        table.append(pa.table({"id": pa.array(range(f * 100, f * 100 + 100), pa.int64()),
                               "s": pa.array([f"v{f}-{i}" for i in range(100)],
                                             pa.large_string())},
                              schema=schema_to_pyarrow(table.schema())))
    return table


STANDARD_TABLES = [ALL_TYPES, PART_IDENTITY, PART_DAY, PART_BUCKET, EVOLUTION, LARGE, CORRUPT]


def write_standard_tables(wh: Warehouse) -> EvolutionSnapshots:
    """Everything the shared node serves (all but the eviction table)."""
    write_all_types(wh)
    write_part_identity(wh)
    write_part_day(wh)
    write_part_bucket(wh)
    _, evo = write_evolution(wh)
    write_large(wh)
    write_corrupt_candidate(wh)
    return evo
