"""SQL tickets (DoGet(Ticket(b"SELECT ..."))) and Flight SQL through ADBC, against the same
computation done with pyarrow over pyiceberg's read of the tables."""

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.expressions import EqualTo, GreaterThanOrEqual

from support import tables as T
from support.compare import assert_same_rows


def _data(wh, name, columns=None):
    return T.oracle(wh.table(name), columns)


def _group(table, keys, aggs, rename):
    out = table.group_by(keys, use_threads=False).aggregate(aggs)
    return out.rename_columns([rename.get(n, n) for n in out.column_names])


# Each entry: SQL, a function computing the expected table from the warehouse, and
# options for assert_same_rows.

def _count(wh):
    return pa.table({"n": pa.array([_data(wh, T.ALL_TYPES, ["id"]).num_rows], pa.int64())})


def _by_region(wh):
    t = _data(wh, T.PART_IDENTITY)
    return _group(t, ["region"], [([], "count_all"), ("qty", "sum"), ("qty", "count"),
                                  ("id", "min"), ("id", "max")],
                  {"count_all": "n", "qty_sum": "total_qty", "qty_count": "qty_count",
                   "id_min": "first_id", "id_max": "last_id"})


def _like(wh):
    t = _data(wh, T.ALL_TYPES, ["id", "s", "i"])
    mask = pc.and_(pc.greater(t["i"], 10), pc.starts_with(t["s"], "ab"))
    return t.filter(pc.fill_null(mask, False))


def _in_and_null(wh):
    t = _data(wh, T.PART_IDENTITY, ["id", "region", "note"])
    mask = pc.and_(pc.is_in(t["region"], pa.array(["us", "eu"])), pc.is_null(t["note"]))
    return t.filter(pc.fill_null(mask, False))


def _day_totals(wh):
    t = _data(wh, T.PART_DAY)
    t = t.filter(pc.fill_null(pc.greater_equal(t["ts"], pa.scalar(dt.datetime(2024, 1, 1),
                                                                  pa.timestamp("us"))), False))
    return _group(t, ["date"], [([], "count_all"), ("value", "sum")],
                  {"count_all": "n", "value_sum": "total"})


def _self_join_ids(wh):
    t = _data(wh, T.PART_BUCKET, ["id", "name"])
    a = t.rename_columns(["a_id", "a_name"])
    b = pa.table({"b_id": t["id"], "key": pc.add(t["id"], 1)})
    return a.join(b, "a_id", "key", join_type="inner").select(["a_id", "b_id", "a_name"])


def _self_join_groups(wh):
    t = _data(wh, T.PART_IDENTITY, ["region", "qty"])
    joined = t.join(t.rename_columns(["r2", "q2"]), ["region", "qty"], ["r2", "q2"],
                    join_type="inner")
    return _group(joined, ["region"], [([], "count_all")], {"count_all": "n"})


def _large_groups(wh):
    t = _data(wh, T.LARGE)
    return _group(t, ["k"], [([], "count_all"), ("id", "sum"), ("v", "mean")],
                  {"count_all": "n", "id_sum": "total", "v_mean": "mean_v"})


def _evolution_groups(wh):
    t = _data(wh, T.EVOLUTION)
    return _group(t, ["full_name"], [([], "count_all"), ("extra", "count"), ("qty", "sum")],
                  {"count_all": "n", "extra_count": "with_extra", "qty_sum": "total"})


def _evolution_null_extra(wh):
    t = _data(wh, T.EVOLUTION, ["extra"])
    return pa.table({"n": pa.array([t["extra"].null_count], pa.int64())})


def _distinct_regions(wh):
    t = _data(wh, T.PART_IDENTITY, ["region"])
    return pa.table({"region": pc.unique(t["region"])})


def _typed_aggregates(wh):
    t = _data(wh, T.ALL_TYPES)
    return pa.table({
        "min_dt": [pc.min(t["dt"]).as_py()], "max_ts": [pc.max(t["ts"]).as_py()],
        "min_dec": pa.array([pc.min(t["dec9"]).as_py()], pa.decimal128(9, 2)),
        "max_s": [pc.max(t["s"]).as_py()], "n_u": pa.array([t["u"].length() -
                                                             t["u"].null_count], pa.int64()),
    })


def _scalar_exprs(wh):
    t = _data(wh, T.ALL_TYPES, ["id", "i", "s"])
    t = t.filter(pc.less(t["id"], 100))
    return pa.table({"id": t["id"], "i2": pc.multiply(t["i"], 2),
                     "n_chars": pc.utf8_length(t["s"])})


QUERIES = {
    "count": ("SELECT count(*) AS n FROM test.all_types", _count, {}),
    "group-by-partition-column": (
        "SELECT region, count(*) AS n, sum(qty) AS total_qty, count(qty) AS qty_count, "
        "min(id) AS first_id, max(id) AS last_id FROM test.part_identity GROUP BY region",
        _by_region, {}),
    "where-like": ("SELECT id, s, i FROM test.all_types WHERE i > 10 AND s LIKE 'ab%'",
                   _like, {}),
    "where-in-and-is-null": (
        "SELECT id, region, note FROM test.part_identity "
        "WHERE region IN ('us', 'eu') AND note IS NULL", _in_and_null, {}),
    "timestamp-filter-group-by-date": (
        "SELECT date, count(*) AS n, sum(value) AS total FROM test.part_day "
        "WHERE ts >= TIMESTAMP '2024-01-01 00:00:00' GROUP BY date", _day_totals, {}),
    "self-join-on-expression": (
        "SELECT a.id AS a_id, b.id AS b_id, a.name AS a_name "
        "FROM test.part_bucket a JOIN test.part_bucket b ON a.id = b.id + 1",
        _self_join_ids, {}),
    "self-join-then-aggregate": (
        "SELECT a.region AS region, count(*) AS n FROM test.part_identity a "
        "JOIN test.part_identity b ON a.region = b.region AND a.qty = b.qty GROUP BY a.region",
        _self_join_groups, {}),
    "large-group-by": (
        "SELECT k, count(*) AS n, sum(id) AS total, avg(v) AS mean_v FROM test.large GROUP BY k",
        _large_groups, {"float_rel_tol": 1e-9}),  # avg of doubles: summation order varies
    "evolved-table-group-by": (
        "SELECT full_name, count(*) AS n, count(extra) AS with_extra, sum(qty) AS total "
        "FROM test.evolution GROUP BY full_name", _evolution_groups, {}),
    "evolved-table-added-column-null": (
        "SELECT count(*) AS n FROM test.evolution WHERE extra IS NULL", _evolution_null_extra,
        {}),
    "distinct": ("SELECT DISTINCT region FROM test.part_identity", _distinct_regions, {}),
    "typed-aggregates": (
        "SELECT min(dt) AS min_dt, max(ts) AS max_ts, min(dec9) AS min_dec, max(s) AS max_s, "
        "count(u) AS n_u FROM test.all_types", _typed_aggregates, {}),
    "scalar-expressions": (
        "SELECT id, i * 2 AS i2, character_length(s) AS n_chars FROM test.all_types "
        "WHERE id < 100", _scalar_exprs, {}),
}


@pytest.mark.parametrize("qid", list(QUERIES))
def test_sql_ticket(local_node, local_wh, qid):
    query, expected_fn, opts = QUERIES[qid]
    got = local_node.sql(query)
    # SQL result types are the engine's (count -> int64, sum(int) -> int64, ...): compare
    # values, and column names exactly.
    assert_same_rows(got, expected_fn(local_wh), check_types=False, context=qid, **opts)


def test_select_star_keeps_iceberg_types(local_node, local_wh):
    got = local_node.sql("SELECT * FROM test.all_types")
    assert_same_rows(got, T.oracle(local_wh.table(T.ALL_TYPES)))


def test_order_by_limit_is_ordered(local_node, local_wh):
    got = local_node.sql("SELECT id, v FROM test.large ORDER BY v DESC, id ASC LIMIT 10")
    t = _data(local_wh, T.LARGE, ["id", "v"])
    want = t.take(pc.sort_indices(t, [("v", "descending"), ("id", "ascending")])[:10])
    assert got.column_names == ["id", "v"]
    assert got.to_pylist() == want.to_pylist()


def test_sql_on_s3(s3_node, s3_wh):
    got = s3_node.sql("SELECT region, count(*) AS n, sum(qty) AS total_qty, count(qty) AS "
                      "qty_count, min(id) AS first_id, max(id) AS last_id "
                      "FROM test.part_identity GROUP BY region")
    assert_same_rows(got, _by_region(s3_wh), check_types=False)


def test_contract_pandas_example(local_node, local_wh):
    port = local_node.flight_port
    # The CONTRACT's example, verbatim except for the port and the table name.
    import pyarrow.flight as flight
    client = flight.FlightClient(f"grpc://localhost:{port}")
    table = client.do_get(flight.Ticket(b"SELECT * FROM test.part_day WHERE date >= '2024-01-01'")).read_all()  # noqa: E501
    df = table.to_pandas()

    expected = T.oracle(local_wh.table(T.PART_DAY),
                        row_filter=GreaterThanOrEqual("date", "2024-01-01"))
    assert_same_rows(table, expected)
    assert len(df) == expected.num_rows > 0
    assert (df["date"] >= dt.date(2024, 1, 1)).all()


# -- Flight SQL through ADBC ---------------------------------------------------------------


def _adbc_connect(node):
    import adbc_driver_flightsql.dbapi as dbapi
    # autocommit=True: a read-only cache has no transactions to turn off.
    return dbapi.connect(f"grpc://127.0.0.1:{node.flight_port}", autocommit=True)


def test_adbc_query(local_node, local_wh):
    with _adbc_connect(local_node) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM test.part_identity WHERE region = 'eu'")
        got = cur.fetch_arrow_table()
        cur.execute("SELECT count(*) AS n FROM test.large")
        count = cur.fetch_arrow_table()
    expected = T.oracle(local_wh.table(T.PART_IDENTITY), row_filter=EqualTo("region", "eu"))
    assert_same_rows(got, expected)
    assert count.column(0).to_pylist() == [300_000]


def test_adbc_all_types(local_node, local_wh):
    with _adbc_connect(local_node) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM test.all_types")
        got = cur.fetch_arrow_table()
    assert_same_rows(got, T.oracle(local_wh.table(T.ALL_TYPES)))


def test_adbc_metadata(local_node, local_wh):
    with _adbc_connect(local_node) as conn:
        objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
        schema = conn.adbc_get_table_schema("all_types", db_schema_filter="test")
    found = {(s["db_schema_name"], t["table_name"])
             for c in objects for s in (c["catalog_db_schemas"] or [])
             for t in (s["db_schema_tables"] or [])}
    for name in T.STANDARD_TABLES:
        assert tuple(name.split(".")) in found, f"{name} not in ADBC get_objects: {found}"
    assert schema.names == T.oracle(local_wh.table(T.ALL_TYPES)).schema.names
