"""The arrow-cache Trino connector against Trino's own Iceberg connector, in one real Trino server
(the release of jvm-connector/trino/trino.properties, assembled from Maven Central) on the same
REST catalog and files: for every type, filter shape and projection, `cache.test.t` returns exactly
what `iceberg.test.t` returns; EXPLAIN shows what was pushed down and what stayed in Trino; bad
catalog properties, an unreachable cluster and a failed split are Trino errors naming the cause,
and Trino stays up (conftest checks after every test)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from support.node import Node, free_port
from trino_server import TrinoError

ALL = "test.all_types"

ALL_COLS = "id, b, i, l, f, d, dec9, dec38, dt, t, ts, tstz, s, u, fx, bin"


def rows_of(result) -> Counter:
    return Counter(json.dumps(r, sort_keys=True) for r in result.rows)


def compare(env, sql: str, *, min_rows: int = 0, oracle_sql: str | None = None):
    """Runs `sql` with {c} as the Iceberg catalog and as the arrow-cache catalog: same columns,
    same types, same rows (as a multiset). `oracle_sql` replaces `sql` on the Iceberg side where
    Trino's Iceberg connector cannot run the same text (see ICEBERG_CANNOT). Returns the
    arrow-cache result."""
    trino = env.trino
    expected = trino.query((oracle_sql or sql).format(c="iceberg"))
    got = trino.query(sql.format(c="cache"))
    assert got.names == expected.names, sql
    assert got.types == expected.types, f"{sql}\n  arrow-cache types {got.types}\n  iceberg types     {expected.types}"
    e, g = rows_of(expected), rows_of(got)
    if e != g:
        missing = list((e - g).elements())[:5]
        extra = list((g - e).elements())[:5]
        pytest.fail(f"{sql}\n  {sum(e.values())} rows expected, {sum(g.values())} returned\n"
                    f"  missing (first 5): {missing}\n  unexpected (first 5): {extra}")
    assert sum(g.values()) >= min_rows, f"{sql}: only {sum(g.values())} rows; the case tests nothing"
    return got


def scan_line(plan: str) -> str:
    """The table scan's line of an EXPLAIN (TableScan, ScanFilter or ScanFilterProject)."""
    lines = [ln for ln in plan.splitlines() if "table = cache:" in ln or "table = cache2:" in ln]
    assert lines, plan
    return lines[0]


# ----------------------------------------------------------------------------------------------
# Metadata


def test_schemas_and_tables_listed(trino_env):
    t = trino_env.trino
    assert ["test"] in t.rows("SHOW SCHEMAS FROM cache")
    cache_tables = {r[0] for r in t.rows("SHOW TABLES FROM cache.test")}
    iceberg_tables = {r[0] for r in t.rows("SHOW TABLES FROM iceberg.test")}
    assert iceberg_tables <= cache_tables, (iceberg_tables, cache_tables)
    columns = t.rows("SELECT table_name, column_name FROM cache.information_schema.columns "
                     "WHERE table_schema = 'test' AND table_name = 'nested'")
    assert [c for _, c in columns] == ["id", "st", "arr", "arr_st", "m", "m_arr", "tag"]


@pytest.mark.parametrize("table", ["all_types", "part_identity", "part_day", "evolution", "nested"])
def test_column_types_match_iceberg(trino_env, table):
    t = trino_env.trino
    cache = t.rows(f"DESCRIBE cache.test.{table}")
    iceberg = t.rows(f"DESCRIBE iceberg.test.{table}")
    assert [r[:2] for r in cache] == [r[:2] for r in iceberg]


def test_uuid_column_is_uuid(trino_env):
    """The node tags Iceberg uuid columns with Arrow's arrow.uuid extension; fixed(16) stays varbinary."""
    assert trino_env.trino.rows("SELECT typeof(u), typeof(fx) FROM cache.test.all_types LIMIT 1") == [["uuid", "varbinary"]]


def test_unknown_table_is_not_found(trino_env):
    with pytest.raises(TrinoError) as e:
        trino_env.trino.query("SELECT * FROM cache.test.no_such_table")
    assert e.value.error_name == "TABLE_NOT_FOUND", e.value


# ----------------------------------------------------------------------------------------------
# Whole tables, every type


@pytest.mark.parametrize("table", ["part_identity", "part_day", "evolution", "nested"])
def test_select_star(trino_env, table):
    compare(trino_env, f"SELECT * FROM {{c}}.test.{table}", min_rows=100)


def test_select_all_types(trino_env):
    compare(trino_env, f"SELECT {ALL_COLS} FROM {{c}}.{ALL}", min_rows=3000)


def test_second_catalog_of_the_plugin(trino_env):
    """cache2 is another catalog of the same plugin (its own cluster, the second node)."""
    t = trino_env.trino
    a = t.query(f"SELECT {ALL_COLS} FROM cache.{ALL}")
    b = t.query(f"SELECT {ALL_COLS} FROM cache2.{ALL}")
    assert rows_of(a) == rows_of(b)
    joined = t.rows("SELECT count(*) FROM cache.test.part_identity x JOIN cache2.test.part_identity y ON x.id = y.id")
    assert joined == t.rows("SELECT count(*) FROM iceberg.test.part_identity")


# ----------------------------------------------------------------------------------------------
# Filters: each must return what Iceberg returns; `pushed` says whether the whole predicate must
# leave Trino's plan (enforced by the cluster) or some of it must stay.

PUSHED, KEPT = True, False

ALL_TYPES_FILTERS = [
    # equality on every pushable type
    ("b = true", PUSHED),
    ("i = 7", PUSHED),
    ("l = 7000000049", PUSHED),
    ("f = REAL '1.5'", PUSHED),
    ("d = 2.5", PUSHED),
    ("dec9 = DECIMAL '12.34'", PUSHED),
    ("dec38 = DECIMAL '-1234567890123456789.0123456789'", PUSHED),
    ("dt = DATE '2024-01-01'", PUSHED),
    ("t = TIME '10:00:00.000000'", PUSHED),
    ("ts = TIMESTAMP '2024-01-01 10:00:00.000000'", PUSHED),
    ("tstz = TIMESTAMP '2024-01-01 10:00:00.000000 UTC'", PUSHED),
    ("tstz = TIMESTAMP '2024-01-01 12:00:00.000000 +02:00'", PUSHED),
    ("s = 'abc'", PUSHED),
    ("s = 'é'", PUSHED),
    ("fx = X'000102030405060708090a0b0c0d0e0f'", PUSHED),
    ("fx IN (X'000102030405060708090a0b0c0d0e0f', X'ffffffffffffffffffffffffffffffff')", PUSHED),
    ("fx = X'00'", KEPT),  # never equal to a fixed(16) value: not sent to the cluster
    ("u = UUID '12345678-1234-5678-1234-567812345678'", PUSHED),
    ("u IN (UUID '00000000-0000-0000-0000-000000000000', UUID 'ffffffff-ffff-ffff-ffff-ffffffffffff')", PUSHED),
    ("u <> UUID '12345678-1234-5678-1234-567812345678'", None),
    ("u IS NULL", PUSHED),
    ("u > UUID '80000000-0000-0000-0000-000000000000'", KEPT),  # uuid: equality only
    ("bin = X'0001fe'", PUSHED),
    ("bin = X''", PUSHED),
    # ranges
    ("i > 10", PUSHED),
    ("i >= 10 AND i < 20", PUSHED),
    ("l BETWEEN -5000000035 AND 5000000035", PUSHED),
    ("f > REAL '1.0'", PUSHED),
    ("f <= REAL '-1.25'", PUSHED),
    ("d < 0", PUSHED),
    ("d >= 1e300", PUSHED),
    ("dec9 > DECIMAL '100.00'", PUSHED),
    ("dec38 < DECIMAL '0'", PUSHED),
    ("dt BETWEEN DATE '2023-06-01' AND DATE '2023-12-31'", PUSHED),
    ("dt < DATE '1950-01-01'", PUSHED),
    ("t < TIME '06:00:00.000000'", PUSHED),
    ("ts > TIMESTAMP '2024-06-01 00:00:00.000000'", PUSHED),
    ("ts < TIMESTAMP '1970-01-01 00:00:00.000000'", PUSHED),
    ("tstz >= TIMESTAMP '2024-01-01 00:00:00.000000 UTC'", PUSHED),
    ("s > 'b'", PUSHED),
    ("s BETWEEN 'a' AND 'b'", PUSHED),
    ("s >= '日本'", PUSHED),
    ("bin > X'80'", PUSHED),
    # IN, NOT IN, <>
    ("i IN (1, 2, 3, 7)", PUSHED),
    ("s IN ('a', 'abc', 'é', '日本語', '')", PUSHED),
    ("dt IN (DATE '2024-01-01', DATE '1900-01-01')", PUSHED),
    ("i NOT IN (1, 2, 3)", PUSHED),
    ("s NOT IN ('', 'a')", PUSHED),
    ("i <> 7", PUSHED),
    ("s <> 'abc'", PUSHED),
    ("b <> true", PUSHED),
    ("d <> 2.5", PUSHED),       # NaN <> 2.5 is true: an expression, not a domain
    ("f <> REAL '1.5'", PUSHED),
    ("d NOT IN (2.5, -0.0)", None),
    # NULLs and three-valued logic
    ("i IS NULL", PUSHED),
    ("s IS NOT NULL", PUSHED),
    ("i IS NULL OR i > 40", PUSHED),
    ("NOT (i > 10)", PUSHED),
    ("i = 7 OR s = 'abc'", PUSHED),
    ("NOT (i = 7 OR s = 'abc')", PUSHED),
    ("NOT (i > 0 AND s < 'm')", PUSHED),
    ("i IN (1, NULL)", None),
    ("i NOT IN (1, NULL)", None),
    # NaN and infinities
    ("is_nan(d)", PUSHED),
    ("NOT is_nan(f)", PUSHED),
    ("d > 0", PUSHED),
    ("f < REAL '0'", PUSHED),
    ("d = infinity()", PUSHED),
    ("f = -infinity()", PUSHED),
    ("d = -0.0", PUSHED),
    # LIKE and starts_with
    ("s LIKE 'ab%'", PUSHED),
    ("s LIKE 'é%'", PUSHED),
    ("s NOT LIKE 'ab%'", PUSHED),
    ("starts_with(s, 'a')", PUSHED),
    ("s LIKE '%'", PUSHED),
    ("s LIKE 'a%c'", KEPT),
    ("s LIKE 'ab\\_%' ESCAPE '\\'", KEPT),
    ("s LIKE '_b%'", KEPT),
    # what the expression language cannot say stays in Trino
    ("lower(s) = 'abc'", KEPT),
    ("i % 5 = 2", KEPT),
    ("length(s) > 3", KEPT),
    ("i = 7 AND lower(s) = 'abc'", KEPT),
    ("CAST(i AS varchar) = '7'", KEPT),
    # nothing or everything
    ("i > 1000", PUSHED),
    ("i IS NULL AND i = 1", None),
    ("i = 7 OR i IS NOT NULL OR i IS NULL", None),
    # several columns
    ("i > 0 AND s LIKE 'a%' AND dt >= DATE '2024-01-01'", PUSHED),
    ("(i > 40 OR d < 0) AND b", PUSHED),
]


# Trino's Iceberg connector (483) fails on some predicates over these pyiceberg-written tables
# ("Unsupported iceberg type: fixed[16]" when pushing a fixed(16) domain, a NullPointerException
# pruning the null partition, "Corrupted statistics" on a float column promoted to double): the
# oracle runs an equivalent predicate that it does not push down.
ICEBERG_CANNOT = {
    "fx = X'000102030405060708090a0b0c0d0e0f'": "to_hex(fx) = '000102030405060708090A0B0C0D0E0F'",
    "fx IN (X'000102030405060708090a0b0c0d0e0f', X'ffffffffffffffffffffffffffffffff')":
        "to_hex(fx) IN ('000102030405060708090A0B0C0D0E0F', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF')",
    "fx = X'00'": "to_hex(fx) = '00'",
    "region IN ('us', 'é-1') AND qty > 10": "coalesce(region, '') IN ('us', 'é-1') AND qty + 0 > 10",
    "price BETWEEN 10 AND 20": "price + 0 BETWEEN 10 AND 20",
}


def oracle(sql: str, predicate: str) -> str | None:
    alt = ICEBERG_CANNOT.get(predicate)
    return sql.replace(f"WHERE {predicate}", f"WHERE {alt}") if alt else None


@pytest.mark.parametrize("predicate,pushed", ALL_TYPES_FILTERS, ids=[f[0] for f in ALL_TYPES_FILTERS])
def test_filter_all_types(trino_env, predicate, pushed):
    sql = f"SELECT {ALL_COLS} FROM {{c}}.{ALL} WHERE {predicate}"
    compare(trino_env, sql, oracle_sql=oracle(sql, predicate))
    if pushed is None:
        return
    line = scan_line(trino_env.trino.explain(f"SELECT id FROM cache.{ALL} WHERE {predicate}"))
    if pushed:
        assert "filterPredicate" not in line and "filter=[" in line, line
    else:
        assert "filterPredicate" in line, line


OTHER_FILTERS = [
    ("part_identity", "region = 'eu'"),
    ("part_identity", "region IS NULL"),
    ("part_identity", "region IN ('us', 'é-1') AND qty > 10"),
    ("part_identity", "amount > 0"),
    ("part_identity", "is_nan(amount)"),
    ("part_identity", "note LIKE 'prom%'"),
    ("part_identity", "note <> 'promo'"),
    ("part_day", "ts >= TIMESTAMP '2024-01-01 00:00:00.000000'"),
    ("part_day", "\"date\" = DATE '2023-12-31'"),
    ("part_day", "ts IS NULL OR value < 0"),
    ("evolution", "full_name = 'name3'"),
    ("evolution", "qty > 1000"),
    ("evolution", "extra IS NULL"),
    ("evolution", "price BETWEEN 10 AND 20"),
    ("nested", "tag = 'alpha'"),
    ("nested", "tag IS NULL AND id > 100"),
    ("nested", "st.a = 3"),
    ("nested", "cardinality(arr) > 2"),
    ("nested", "element_at(m, 'z') < 0"),
]


@pytest.mark.parametrize("table,predicate", OTHER_FILTERS, ids=[f"{t}:{p}" for t, p in OTHER_FILTERS])
def test_filter_other_tables(trino_env, table, predicate):
    sql = f"SELECT * FROM {{c}}.test.{table} WHERE {predicate}"
    compare(trino_env, sql, oracle_sql=oracle(sql, predicate))


# ----------------------------------------------------------------------------------------------
# Projections, aggregations, limits


PROJECTIONS = [
    f"SELECT s, i FROM {{c}}.{ALL}",
    f"SELECT bin, fx, dec38 FROM {{c}}.{ALL} WHERE i > 0",
    f"SELECT i % 7 AS m, upper(s) AS up, d + 1 AS d1, l / 3 AS l3 FROM {{c}}.{ALL}",
    f"SELECT count(*) FROM {{c}}.{ALL}",
    f"SELECT count(*) FROM {{c}}.{ALL} WHERE s LIKE 'a%'",
    f"SELECT count(s), count(i), count(DISTINCT s), sum(l), min(ts), max(tstz), avg(d) FROM {{c}}.{ALL}",
    f"SELECT b, count(*), sum(dec9), max(dec38) FROM {{c}}.{ALL} GROUP BY b",
    f"SELECT dt, count(*) FROM {{c}}.{ALL} WHERE dt IS NOT NULL GROUP BY dt",
    "SELECT region, count(*), sum(qty), count(amount) FROM {c}.test.part_identity GROUP BY region",
    'SELECT id, st.a, st."inner".x, element_at(arr, 1), element_at(m, \'z\'), cardinality(m_arr) FROM {c}.test.nested',
    "SELECT id, t.k, t.v FROM {c}.test.nested CROSS JOIN UNNEST(arr_st) AS t(k, v)",
    "SELECT st FROM {c}.test.nested WHERE st.b LIKE 'b1%'",
    "SELECT x.id, x.region, y.full_name FROM {c}.test.part_identity x JOIN {c}.test.evolution y ON x.id = y.id WHERE x.qty > 5",
]


@pytest.mark.parametrize("sql", PROJECTIONS)
def test_projection(trino_env, sql):
    compare(trino_env, sql, min_rows=1)


def test_projection_pushed_into_scan(trino_env):
    line = scan_line(trino_env.trino.explain(f"SELECT s, i FROM cache.{ALL} WHERE d > 0"))
    assert "columns=[i, s]" in line, line
    # A dereference stays in Trino; the scan reads the whole struct column.
    line = scan_line(trino_env.trino.explain("SELECT st.a FROM cache.test.nested"))
    assert "columns=[st]" in line, line


def test_limit(trino_env):
    t = trino_env.trino
    rows = t.rows(f"SELECT {ALL_COLS} FROM cache.{ALL} LIMIT 17")
    assert len(rows) == 17
    assert "limit=17" in scan_line(t.explain(f"SELECT * FROM cache.{ALL} LIMIT 17"))
    assert len(t.rows(f"SELECT id FROM cache.{ALL} WHERE i > 0 LIMIT 5")) == 5
    line = scan_line(t.explain(f"SELECT id FROM cache.{ALL} WHERE i > 0 LIMIT 5"))
    assert "limit=5" in line and "filter=[" in line, line
    # A filter Trino keeps must see every row: no limit in the scan.
    assert "limit=" not in scan_line(t.explain(f"SELECT id FROM cache.{ALL} WHERE lower(s) = 'a' LIMIT 5"))


def test_top_n_and_order(trino_env):
    compare(trino_env, f"SELECT id, s FROM {{c}}.{ALL} ORDER BY s DESC NULLS LAST, id LIMIT 50")


def test_statistics_give_row_count(trino_env):
    stats = trino_env.trino.rows(f"SHOW STATS FOR cache.{ALL}")
    total = [r for r in stats if r[0] is None][0]
    count = trino_env.trino.rows(f"SELECT count(*) FROM iceberg.{ALL}")[0][0]
    assert total[4] == count


def test_statistics_of_a_filtered_scan(trino_env):
    """A filtered scan's row count is what the cluster's pruning keeps: exact for a filter on an
    identity partition, so the cost-based optimizer sees a number rather than an unknown."""
    t = trino_env.trino
    sql = "SELECT * FROM {c}.test.part_identity WHERE region = 'eu'"
    stats = t.rows(f"SHOW STATS FOR ({sql.format(c='cache')})")
    total = [r for r in stats if r[0] is None][0]
    assert total[4] == t.rows(f"SELECT count(*) FROM ({sql.format(c='iceberg')})")[0][0] > 0
    scan = next(ln for ln in t.explain(sql.format(c="cache")).splitlines() if "Estimates:" in ln)
    assert f"rows: {int(total[4])} " in scan, scan


# ----------------------------------------------------------------------------------------------
# Snapshots


def test_time_travel_by_snapshot(trino_env):
    evo = trino_env.evolution
    for snap in (evo.initial, evo.renamed, evo.promoted):
        compare(trino_env, f"SELECT * FROM {{c}}.test.evolution FOR VERSION AS OF {snap}", min_rows=100)


def test_unknown_snapshot_is_an_error(trino_env):
    with pytest.raises(TrinoError) as e:
        trino_env.trino.query("SELECT * FROM cache.test.evolution FOR VERSION AS OF 1")
    assert "1" in e.value.message


@pytest.fixture(scope="module")
def refs_table(trino_env):
    """test.refs: tag v1 and branch audit on the first snapshot; a commit on the branch; then a
    column added and a commit on main (tag v2). pyiceberg writes the refs (Trino 483 cannot
    create tags)."""
    import pyarrow as pa
    from pyiceberg.io.pyarrow import schema_to_pyarrow
    from pyiceberg.schema import Schema
    from pyiceberg.types import IntegerType, LongType, NestedField, StringType

    catalog = trino_env.wh.catalog
    name = "test.refs"
    if catalog.table_exists(name):
        catalog.drop_table(name)
    table = catalog.create_table(name, Schema(
        NestedField(1, "id", LongType()), NestedField(2, "name", StringType()), NestedField(3, "qty", IntegerType())))

    def append(ids, branch="main", **cols):
        rows = [{"id": i, "name": f"{branch}-{i}", "qty": i % 7 - 3 if i % 11 else None, **cols} for i in ids]
        table.append(pa.Table.from_pylist(rows, schema=schema_to_pyarrow(table.schema())), branch=branch)

    append(range(0, 200))
    first = table.current_snapshot().snapshot_id
    table.manage_snapshots().create_tag(first, "v1").create_branch(first, "audit").commit()
    append(range(1000, 1050), branch="audit")
    with table.update_schema() as update:
        update.add_column("extra", StringType())
    append(range(200, 300), extra="late")
    table.manage_snapshots().create_tag(table.current_snapshot().snapshot_id, "v2").commit()
    return name


@pytest.mark.parametrize("ref", ["v1", "audit", "v2", "main"])
def test_time_travel_by_branch_or_tag(trino_env, refs_table, ref):
    """FOR VERSION AS OF 'name' reads the ref's snapshot with that snapshot's schema, as Trino's
    Iceberg connector does (v1 and audit lack the column added later)."""
    got = compare(trino_env, f"SELECT * FROM {{c}}.{refs_table} FOR VERSION AS OF '{ref}'", min_rows=200)
    assert ("extra" in got.names) == (ref in ("v2", "main")), got.names
    compare(trino_env, f"SELECT id, qty FROM {{c}}.{refs_table} FOR VERSION AS OF '{ref}' WHERE qty > 0 AND id >= 100",
            min_rows=20)


def test_unknown_branch_or_tag_is_an_error(trino_env, refs_table):
    with pytest.raises(TrinoError) as e:
        trino_env.trino.query(f"SELECT * FROM cache.{refs_table} FOR VERSION AS OF 'nope'")
    assert "no branch or tag `nope`" in e.value.message, e.value.message


# ----------------------------------------------------------------------------------------------
# Bad input: catalogs created at run time (catalog.management=dynamic) with bad properties, an
# unreachable cluster, a node that goes away.


@pytest.mark.parametrize("props,names", [
    ({}, "arrow-cache.cluster"),
    ({"arrow-cache.cluster": "not an address"}, "arrow-cache.cluster"),
    ({"arrow-cache.cluster": "h:8816", "arrow-cache.clustr": "x"}, "arrow-cache.clustr"),
    ({"arrow-cache.cluster": "h:8816", "arrow-cache.connect-timeout": "soon"}, "arrow-cache.connect-timeout"),
    ({"arrow-cache.cluster": "h:8816", "arrow-cache.max-rows-per-page": "0"}, "arrow-cache.max-rows-per-page"),
    ({"arrow-cache.cluster": "h:8816", "arrow-cache.tls.enabled": "true"}, "arrow-cache.tls.enabled"),
    ({"arrow-cache.cluster": "h:8816", "arrow-cache.auth.token": "t"}, "arrow-cache.auth.token"),
])
def test_bad_catalog_properties_name_the_property(trino_env, props, names):
    with_clause = ", ".join(f"\"{k}\" = '{v}'" for k, v in props.items())
    sql = "CREATE CATALOG bad_props USING arrow_cache" + (f" WITH ({with_clause})" if props else "")
    with pytest.raises(TrinoError) as e:
        trino_env.trino.query(sql)
    assert names in e.value.message, e.value.message
    assert ["bad_props"] not in trino_env.trino.rows("SHOW CATALOGS")


def test_unreachable_cluster_fails_queries_not_trino(trino_env):
    t = trino_env.trino
    port = free_port()
    t.query(f"CREATE CATALOG unreachable USING arrow_cache WITH (\"arrow-cache.cluster\" = '127.0.0.1:{port}', "
            "\"arrow-cache.connect-timeout\" = '2s')")
    try:
        with pytest.raises(TrinoError) as e:
            t.query("SELECT * FROM unreachable.test.all_types")
        assert f"127.0.0.1:{port}" in e.value.message and "arrow-cache.cluster" in e.value.message, e.value.message
        assert e.value.error_name == "ARROW_CACHE_UNAVAILABLE", e.value
        # The other catalogs are unaffected.
        assert t.rows(f"SELECT count(*) FROM cache.{ALL} WHERE i = 7")[0][0] > 0
    finally:
        t.query("DROP CATALOG unreachable")


def test_node_gone_fails_the_query_with_the_cause(trino_env, tmp_path):
    """A catalog whose only node stops: planning (or reading) fails with the bridge's cause."""
    t = trino_env.trino
    node = Node(tmp_path / "gone", storage=trino_env.wh.node_storage_config(), name="gone").start()
    t.query(f"CREATE CATALOG gone USING arrow_cache WITH (\"arrow-cache.cluster\" = '{node.control_addr}', "
            "\"arrow-cache.connect-timeout\" = '2s')")
    try:
        assert t.rows("SELECT count(*) FROM gone.test.part_identity") == \
            t.rows("SELECT count(*) FROM iceberg.test.part_identity")
        node.stop()
        with pytest.raises(TrinoError) as e:
            t.query("SELECT count(*) FROM gone.test.part_identity")
        assert e.value.error_name in ("ARROW_CACHE_UNAVAILABLE", "ARROW_CACHE_SPLIT_FAILED"), e.value
        assert re.search(r"arrow-cache|unavailable|connect", e.value.message, re.I), e.value.message
    finally:
        node.stop()
        t.query("DROP CATALOG gone")
