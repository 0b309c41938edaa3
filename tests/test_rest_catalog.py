"""The node's `rest` catalog type against a real Iceberg REST catalog server: Apache Iceberg's
reference RESTCatalogServer (support/rest_catalog.py), not a mock. pyiceberg writes the tables
through the REST API; the node finds them through the same API; results equal pyiceberg's own
read of the same snapshot."""

import subprocess

import pyarrow as pa
import pytest
import yaml
from pyiceberg.expressions import And, EqualTo, GreaterThan, NotNull
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from support import tables as T
from support.compare import assert_same_rows
from support.expr import and_, pred, unary
from support.node import Node, base_config, binary, free_port, grpc_status, server_message
from support.rest_catalog import RestCatalogServer

TABLES = [T.ALL_TYPES, T.PART_IDENTITY, T.EVOLUTION]
APPENDED = f"{T.NAMESPACE}.rest_appended"  # the one table a test changes


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory) -> RestCatalogServer:
    server = RestCatalogServer(tmp_path_factory.mktemp("rest_catalog"))
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rest_wh(rest_server) -> T.Warehouse:
    """Tables written by pyiceberg through the REST catalog (every commit goes through it)."""
    wh = T.rest_warehouse(rest_server.uri, rest_server.warehouse)
    T.write_all_types(wh)
    T.write_part_identity(wh)
    _, wh.evolution_snapshots = T.write_evolution(wh)
    return wh


@pytest.fixture(scope="session")
def rest_node(arrow_cache_bin, rest_wh, tmp_path_factory) -> Node:
    node = Node(tmp_path_factory.mktemp("rest_node"), storage=rest_wh.node_storage_config(),
                name="rest")
    node.start()
    yield node
    node.stop()


@pytest.fixture(autouse=True)
def _rest_node_survives(request):
    yield
    if "rest_node" in request.fixturenames:
        request.getfixturevalue("rest_node").assert_alive()


def test_tables_live_in_the_rest_catalog(rest_wh, rest_server):
    """Guards the premise: metadata was written by the server, under its file:// warehouse."""
    table = rest_wh.table(T.ALL_TYPES)
    # Written through Hadoop, the metadata location reads `file:/abs/path` (one slash), unlike
    # pyiceberg's `file:///abs/path`: the node must accept both.
    assert table.metadata_location.startswith("file:/"), table.metadata_location
    assert str(rest_server.warehouse_dir) in table.metadata_location
    assert (rest_server.warehouse_dir / "test").is_dir()


@pytest.mark.parametrize("name", TABLES)
def test_select_star(rest_node, rest_wh, name):
    got = rest_node.sql(f"SELECT * FROM {name}")
    assert_same_rows(got, T.oracle(rest_wh.table(name)), context=name)


def test_sql_filter_on_partition_and_data(rest_node, rest_wh):
    got = rest_node.sql("SELECT id, region, qty FROM test.part_identity "
                        "WHERE region = 'eu' AND qty > 10")
    expected = T.oracle(rest_wh.table(T.PART_IDENTITY), ["id", "region", "qty"],
                        And(EqualTo("region", "eu"), GreaterThan("qty", 10)))
    assert expected.num_rows > 0
    assert_same_rows(got, expected)


@pytest.mark.parametrize("name", TABLES)
def test_scan_request(rest_node, rest_wh, name):
    _, got = rest_node.scan({"table": name})
    assert_same_rows(got, T.oracle(rest_wh.table(name)), context=name)


def test_scan_request_with_columns_and_filter(rest_node, rest_wh):
    request = {"table": T.ALL_TYPES, "columns": ["id", "i", "s"],
               "filter": and_(pred("gt", "i", 0), unary("not-null", "s"))}
    _, got = rest_node.scan(request)
    expected = T.oracle(rest_wh.table(T.ALL_TYPES), ["id", "i", "s"],
                        And(GreaterThan("i", 0), NotNull("s")))
    assert expected.num_rows > 0
    assert_same_rows(got, expected)


def test_snapshot_id(rest_node, rest_wh):
    table = rest_wh.table(T.ALL_TYPES)
    old = table.snapshots()[1].snapshot_id
    _, got = rest_node.scan({"table": T.ALL_TYPES, "snapshot_id": old})
    expected = T.oracle(table, snapshot_id=old)
    assert expected.num_rows < T.oracle(table, ["id"]).num_rows  # really an older snapshot
    assert_same_rows(got, expected)


def test_snapshot_id_before_schema_changes(rest_node, rest_wh):
    """Schema changes were REST commits too: an old snapshot reads with its own schema."""
    table = rest_wh.table(T.EVOLUTION)
    snap = rest_wh.evolution_snapshots.initial
    _, got = rest_node.scan({"table": T.EVOLUTION, "snapshot_id": snap})
    assert_same_rows(got, T.oracle(table, snapshot_id=snap))


def test_refresh_picks_up_an_append(rest_node, rest_wh):
    table = _small_table(rest_wh)
    before = T.oracle(table)
    _, got = rest_node.scan({"table": APPENDED})
    assert_same_rows(got, before, context="first read")

    table.append(pa.table({"id": pa.array([1000, 1001], pa.int64()),
                           "s": pa.array(["new", None], pa.large_string())},
                          schema=table.schema().as_arrow()))
    after = T.oracle(rest_wh.table(APPENDED))
    assert after.num_rows == before.num_rows + 2

    # Within ttl_seconds the node keeps the snapshot it loaded (the suite sets 600 s) ...
    _, got = rest_node.scan({"table": APPENDED})
    assert_same_rows(got, before, context="before refresh")
    # ... and `refresh` asks the REST catalog again.
    rest_node.do_action("refresh", {"table": APPENDED})
    _, got = rest_node.scan({"table": APPENDED})
    assert_same_rows(got, after, context="after refresh")
    count = rest_node.sql(f"SELECT count(*) AS n FROM {APPENDED}")
    assert count.column("n").to_pylist() == [after.num_rows]


def _small_table(wh: T.Warehouse):
    table = wh.catalog.create_table(
        APPENDED, Schema(NestedField(1, "id", LongType()), NestedField(2, "s", StringType())))
    table.append(pa.table({"id": pa.array(range(100), pa.int64()),
                           "s": pa.array([f"v{i}" for i in range(100)], pa.large_string())},
                          schema=table.schema().as_arrow()))
    return table


@pytest.mark.parametrize("call", ["scan", "sql"])
@pytest.mark.parametrize("name,mention", [("test.no_such_table", "no_such_table"),
                                          ("nons.all_types", "nons")])
def test_unknown_table_is_not_found(rest_node, call, name, mention):
    with pytest.raises(pa.ArrowException) as info:
        if call == "scan":
            rest_node.scan({"table": name})
        else:
            rest_node.sql(f"SELECT * FROM {name}")
    assert grpc_status(info.value) == "NOT_FOUND", str(info.value)
    assert mention in server_message(info.value), str(info.value)


def test_list_flights_lists_rest_tables(rest_node):
    listed = " ".join(str(info.descriptor) for info in rest_node.flight_client().list_flights())
    for name in TABLES:
        assert name in listed, f"{name} not listed: {listed[:500]}"


def _startup_error(tmp_path, catalog_uri: str) -> str:
    """Start a node on a REST catalog that cannot serve it; returns its stderr."""
    ports = {"flight_port": free_port(), "grpc_port": free_port(), "http_port": free_port()}
    config = base_config({"iceberg": {"catalog_type": "rest", "catalog_uri": catalog_uri}}, ports)
    path = tmp_path / "bad_rest.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    try:
        result = subprocess.run([binary(), "serve", "--config", str(path)], capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"node kept running with REST catalog {catalog_uri}")
    assert result.returncode > 0, f"exit {result.returncode}; stderr:\n{result.stderr}"
    assert "panicked" not in result.stderr, result.stderr
    assert f"REST catalog `{catalog_uri}`" in result.stderr, result.stderr
    return result.stderr


def test_unreachable_rest_catalog_stops_startup(arrow_cache_bin, tmp_path):
    """The node checks the catalog at start-up (lists namespaces), so a dead URL fails fast."""
    stderr = _startup_error(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens
    assert "Connection refused" in stderr, stderr


def test_wrong_rest_path_stops_startup(arrow_cache_bin, rest_server, tmp_path):
    """A server that answers with an error: the node reports its status and message."""
    stderr = _startup_error(tmp_path, f"{rest_server.uri}/no/such/prefix")
    assert "HTTP 400" in stderr and "No route for request" in stderr, stderr
