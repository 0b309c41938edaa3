"""The node's catalog types against real catalog servers, each written by pyiceberg through
that catalog's own API; the node finds the tables through the same API, and every result equals
pyiceberg's read of the same snapshot.

- rest: Apache Iceberg's reference RESTCatalogServer (support/rest_catalog.py), not a mock;
- glue: moto's Glue API with SigV4 enforced against an IAM user's keys, files in moto's S3;
- hive: Apache Hive's standalone metastore 3.1.3 from Maven Central (support/hms.py), commits
  under its table lock.

Glue and Hive also hold tables that are not Iceberg tables; the node neither lists nor serves those.
"""

import pyarrow as pa
import pytest
import yaml
from hive_metastore.ttypes import (FieldSchema, LockState, SerDeInfo, ShowLocksRequest,
                                   StorageDescriptor, UnlockRequest)
from hive_metastore.ttypes import Table as HiveTable
from pyiceberg.catalog.hive import HiveCatalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, EqualTo, GreaterThan, NotNull
from pyiceberg.types import LongType, StringType

from support import stores as S
from support import tables as T
from support.changes import BASE, assert_reported_read, new_table, rows_for
from support.compare import assert_same_rows
from support.expr import and_, pred, unary
from support.hms import HiveMetastore, hive_warehouse
from support.node import (Node, base_config, free_port, grpc_status, serve_expecting_failure,
                          server_message)
from support.rest_catalog import RestCatalogServer

CATALOGS = ["rest", "glue", "hive"]
PLAIN = "plain_table"  # a table that is not an Iceberg table (Glue and Hive only)
TABLES = [T.ALL_TYPES, T.PART_IDENTITY, T.EVOLUTION]
BUCKET = "warehouse"


def _serving(server):
    """Starts a catalog server for a module's tests; one that cannot start fails them with why."""
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rest_server(tmp_path_factory) -> RestCatalogServer:
    yield from _serving(RestCatalogServer(tmp_path_factory.mktemp("rest_catalog")))


@pytest.fixture(scope="module")
def rest_wh(rest_server) -> T.Warehouse:
    """Tables written by pyiceberg through the REST catalog (every commit goes through it)."""
    return T.write_core_tables(T.rest_warehouse(rest_server.uri, rest_server.warehouse))


@pytest.fixture(scope="module")
def glue_moto(tmp_path_factory) -> S.SigV4S3Server:
    """moto serving Glue and S3; every request must be signed with the IAM user's keys."""
    server = S.start_sigv4_moto(tmp_path_factory.mktemp("glue_moto"))
    server.create_user("arrow-cache", ("s3:*", "glue:*"))
    server.client(server.access_key, server.secret_key).create_bucket(Bucket=BUCKET)
    server.enforce_auth()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def glue_wh(glue_moto) -> T.Warehouse:
    """Tables written by pyiceberg's GlueCatalog: Glue tables naming their metadata_location;
    beside them a plain Glue table (a CSV location), as a crawler would create one."""
    wh = T.write_core_tables(T.glue_warehouse(glue_moto.endpoint, BUCKET, glue_moto.access_key,
                                        glue_moto.secret_key, S.REGION))
    glue = glue_moto.client(glue_moto.access_key, glue_moto.secret_key, "glue")
    glue.create_table(DatabaseName=T.NAMESPACE, TableInput={
        "Name": PLAIN, "Parameters": {"classification": "csv"},
        "StorageDescriptor": {"Location": f"s3://{BUCKET}/csv/"}})
    return wh


@pytest.fixture(scope="module")
def hms(tmp_path_factory) -> HiveMetastore:
    yield from _serving(HiveMetastore(tmp_path_factory.mktemp("hms")))


@pytest.fixture(scope="module")
def hive_wh(hms) -> T.Warehouse:
    """The standard tables, every commit through the metastore; beside them a plain Hive table,
    as Hive itself would create one."""
    wh = T.write_core_tables(hive_warehouse(hms))
    hms.call(lambda client: client.create_table(HiveTable(
        dbName=T.NAMESPACE, tableName=PLAIN, owner="test", tableType="EXTERNAL_TABLE",
        parameters={"EXTERNAL": "TRUE"}, partitionKeys=[],
        sd=StorageDescriptor(
            cols=[FieldSchema("id", "bigint"), FieldSchema("s", "string")],
            location=f"{hms.warehouse}/{PLAIN}",
            inputFormat="org.apache.hadoop.mapred.TextInputFormat",
            outputFormat="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            serdeInfo=SerDeInfo(
                serializationLib="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")))))
    return wh


@pytest.fixture(scope="module", params=CATALOGS)
def catalog(request, arrow_cache_bin, tmp_path_factory) -> tuple[Node, T.Warehouse]:
    """A node reading one catalog type, and the warehouse pyiceberg wrote through it."""
    wh = request.getfixturevalue(f"{request.param}_wh")
    node = Node(tmp_path_factory.mktemp(f"{request.param}_node"),
                storage=wh.node_storage_config(), name=request.param).start()
    yield node, wh
    node.assert_alive()
    node.stop()


def test_tables_live_in_the_rest_catalog(rest_wh, rest_server):
    """Guards the premise: metadata was written by the server, under its file:// warehouse."""
    table = rest_wh.table(T.ALL_TYPES)
    # Written through Hadoop, the metadata location reads `file:/abs/path` (one slash), unlike
    # pyiceberg's `file:///abs/path`: the node must accept both.
    assert table.metadata_location.startswith("file:/"), table.metadata_location
    assert str(rest_server.warehouse_dir) in table.metadata_location
    assert (rest_server.warehouse_dir / "test").is_dir()


@pytest.mark.parametrize("name", TABLES)
def test_select_star(catalog, name):
    node, wh = catalog
    got = node.sql(f"SELECT * FROM {name}")
    assert_same_rows(got, T.oracle(wh.table(name)), context=name)


def test_sql_filter_on_partition_and_data(catalog):
    node, wh = catalog
    got = node.sql("SELECT id, region, qty FROM test.part_identity "
                        "WHERE region = 'eu' AND qty > 10")
    expected = T.oracle(wh.table(T.PART_IDENTITY), ["id", "region", "qty"],
                        And(EqualTo("region", "eu"), GreaterThan("qty", 10)))
    assert expected.num_rows > 0
    assert_same_rows(got, expected)


@pytest.mark.parametrize("name", TABLES)
def test_scan_request(catalog, name):
    node, wh = catalog
    _, got = node.scan({"table": name})
    assert_same_rows(got, T.oracle(wh.table(name)), context=name)


def test_scan_request_with_columns_and_filter(catalog):
    node, wh = catalog
    request = {"table": T.ALL_TYPES, "columns": ["id", "i", "s"],
               "filter": and_(pred("gt", "i", 0), unary("not-null", "s"))}
    _, got = node.scan(request)
    expected = T.oracle(wh.table(T.ALL_TYPES), ["id", "i", "s"],
                        And(GreaterThan("i", 0), NotNull("s")))
    assert expected.num_rows > 0
    assert_same_rows(got, expected)


def test_snapshot_id(catalog):
    node, wh = catalog
    table = wh.table(T.ALL_TYPES)
    old = table.snapshots()[1].snapshot_id
    _, got = node.scan({"table": T.ALL_TYPES, "snapshot_id": old})
    expected = T.oracle(table, snapshot_id=old)
    assert expected.num_rows < T.oracle(table, ["id"]).num_rows  # really an older snapshot
    assert_same_rows(got, expected)


def test_snapshot_id_before_schema_changes(catalog):
    """Schema changes were catalog commits too: an old snapshot reads with its own schema."""
    node, wh = catalog
    table = wh.table(T.EVOLUTION)
    snap = wh.evolution_snapshots.initial
    _, got = node.scan({"table": T.EVOLUTION, "snapshot_id": snap})
    assert_same_rows(got, T.oracle(table, snapshot_id=snap))


def test_refresh_picks_up_commits(catalog):
    """An append, then an overwrite: each is seen after `refresh`, which asks the catalog for the
    table's metadata location again."""
    node, wh = catalog
    table, name = new_table(wh, BASE)
    table.append(rows_for(table, range(0, 200)))
    first = assert_reported_read(node, wh, name)

    table.append(rows_for(table, range(200, 250)))
    # Within ttl_seconds the node keeps the snapshot it loaded (the suite sets 600 s) ...
    assert assert_reported_read(node, wh, name)["snapshot_id"] == first["snapshot_id"]
    # ... and `refresh` reloads it.
    node.do_action("refresh", {"table": name})
    meta = assert_reported_read(node, wh, name)
    assert meta["snapshot_id"] == wh.table(name).current_snapshot().snapshot_id
    count = node.sql(f"SELECT count(*) AS n FROM {name}")
    assert count.column("n").to_pylist() == [250]

    table.overwrite(rows_for(table, range(1000, 1010)))
    node.do_action("refresh", {"table": name})
    meta = assert_reported_read(node, wh, name)
    assert meta["snapshot_id"] == wh.table(name).current_snapshot().snapshot_id
    assert node.sql(f"SELECT min(id) AS m FROM {name}").column("m").to_pylist() == [1000]


def test_schema_change_is_seen_after_refresh(catalog):
    node, wh = catalog
    table, name = new_table(wh, BASE)
    table.append(rows_for(table, range(0, 100)))
    assert_reported_read(node, wh, name)

    with table.update_schema() as update:
        update.add_column("added", StringType())
        update.rename_column("s", "label")
        update.update_column("small", field_type=LongType())
    table.append(rows_for(table, range(100, 150)))
    node.do_action("refresh", {"table": name})
    meta = assert_reported_read(node, wh, name)
    assert meta["schema_id"] == wh.table(name).schema().schema_id > 0
    got = node.sql(f"SELECT label, added FROM {name} WHERE id >= 100")
    assert got.num_rows == 50 and got.column("label").null_count == 0


@pytest.mark.parametrize("call", ["scan", "sql"])
@pytest.mark.parametrize("name,mention", [("test.no_such_table", "no_such_table"),
                                          ("nons.all_types", "nons")])
def test_unknown_table_is_not_found(catalog, call, name, mention):
    node, _ = catalog
    with pytest.raises(pa.ArrowException) as info:
        if call == "scan":
            node.scan({"table": name})
        else:
            node.sql(f"SELECT * FROM {name}")
    assert grpc_status(info.value) == "NOT_FOUND", str(info.value)
    assert mention in server_message(info.value), str(info.value)


def test_list_flights_lists_the_catalogs_iceberg_tables(catalog):
    node, _ = catalog
    listed = " ".join(str(info.descriptor) for info in node.flight_client().list_flights())
    for name in TABLES:
        assert name in listed, f"{name} not listed: {listed[:500]}"
    assert PLAIN not in listed, f"a table that is not an Iceberg table is listed: {listed[:500]}"


@pytest.mark.parametrize("call", ["scan", "sql"])
def test_a_table_that_is_not_iceberg_is_not_found(catalog, call):
    node, wh = catalog
    if wh.catalog_type == "rest":
        pytest.skip("a REST catalog holds only Iceberg tables")
    with pytest.raises(pa.ArrowException) as info:
        if call == "scan":
            node.scan({"table": f"{T.NAMESPACE}.{PLAIN}"})
        else:
            node.sql(f"SELECT * FROM {T.NAMESPACE}.{PLAIN}")
    assert grpc_status(info.value) == "NOT_FOUND", str(info.value)
    # SQL says what DataFusion says of any unknown table; a scan request says why.
    why = "not an Iceberg table" if call == "scan" else PLAIN
    assert why in server_message(info.value), str(info.value)


def _startup_error(tmp_path, catalog_uri: str, kind: str = "rest", **properties) -> str:
    """Start a node on a catalog that cannot serve it; returns its stderr."""
    ports = {"flight_port": free_port(), "grpc_port": free_port(), "http_port": free_port()}
    iceberg = {"catalog_type": kind, "catalog_uri": catalog_uri}
    if properties:
        iceberg["properties"] = properties
    config = base_config({"iceberg": iceberg}, ports)
    path = tmp_path / f"bad_{kind}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = serve_expecting_failure(path, f"{kind} catalog {catalog_uri}")
    name = {"rest": "REST", "glue": "Glue", "hive": "Hive"}[kind]
    assert f"{name} catalog `{catalog_uri}`" in result.stderr, result.stderr
    return result.stderr


def test_unreachable_rest_catalog_stops_startup(arrow_cache_bin, tmp_path):
    """The node checks the catalog at start-up (lists namespaces), so a dead URL fails fast."""
    stderr = _startup_error(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens
    assert "Connection refused" in stderr, stderr


def test_wrong_rest_path_stops_startup(arrow_cache_bin, rest_server, tmp_path):
    """A server that answers with an error: the node reports its status and message."""
    stderr = _startup_error(tmp_path, f"{rest_server.uri}/no/such/prefix")
    assert "HTTP 400" in stderr and "No route for request" in stderr, stderr


def test_glue_tables_are_signed_glue_tables(glue_wh, glue_moto):
    """Guards the premise: the tables are Glue tables (read back with boto3, signed)."""
    glue = glue_moto.client(glue_moto.access_key, glue_moto.secret_key, "glue")
    table = glue.get_table(DatabaseName=T.NAMESPACE, Name="all_types")["Table"]
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"
    assert table["Parameters"]["metadata_location"].startswith(f"s3://{BUCKET}/glue/")
    # moto checks signatures: a wrong secret is refused.
    bad = glue_moto.client(glue_moto.access_key, "wrong-secret", "glue")
    with pytest.raises(Exception, match="(?i)signature"):
        bad.get_table(DatabaseName=T.NAMESPACE, Name="all_types")


def test_wrong_glue_secret_stops_startup(arrow_cache_bin, glue_moto, tmp_path):
    """The node checks the catalog at start-up; Glue's refusal is in the message."""
    stderr = _startup_error(tmp_path, glue_moto.endpoint, "glue", **{
        "glue.region": S.REGION, "glue.access-key-id": glue_moto.access_key,
        "glue.secret-access-key": "wrong-secret"})
    assert "Glue GetDatabases" in stderr and "ignature" in stderr, stderr
    assert "wrong-secret" not in stderr


def test_glue_needs_a_region(arrow_cache_bin, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    ports = {"flight_port": free_port(), "grpc_port": free_port(), "http_port": free_port()}
    path = tmp_path / "glue.yaml"
    path.write_text(yaml.safe_dump(base_config({"iceberg": {"catalog_type": "glue"}}, ports)))
    result = serve_expecting_failure(path, "a Glue catalog without a region")
    assert "glue.region" in result.stderr, result.stderr


def test_hive_tables_live_in_the_metastore(hms, hive_wh):
    """Guards the premise: the metastore holds each table's current metadata location, the
    tables live under its warehouse, and every commit released its lock."""
    for name in TABLES:
        ns, tbl = name.split(".")
        hive_table = hms.call(lambda client: client.get_table(ns, tbl))
        assert hive_table.tableType == "EXTERNAL_TABLE"
        assert hive_table.parameters["table_type"] == "ICEBERG", hive_table.parameters
        table = hive_wh.table(name)
        metadata_location = table.metadata_location
        assert hive_table.parameters["metadata_location"] == metadata_location
        # Each commit swapped the location in the metastore (alter_table under the lock).
        assert (hive_table.parameters["previous_metadata_location"]
                == table.metadata.metadata_log[-1].metadata_file)
        # The metastore chose the location (Hadoop's `file:/abs/path`, one slash).
        assert metadata_location.startswith(f"file:{hms.warehouse_dir}/{ns}.db/{tbl}/"), (
            metadata_location)
    locks = hms.call(lambda client: client.show_locks(ShowLocksRequest())).locks
    assert not locks, locks


def test_hive_commits_take_the_metastore_lock(hms, hive_wh):
    """The writer's commits really wait for the metastore's table lock: while another client
    holds it, a commit waits, then gives up; once it is released, the commit goes through."""
    table, name = new_table(hive_wh, BASE)
    ns, tbl = name.split(".")
    impatient = HiveCatalog("impatient", uri=hms.uri, **{
        "lock-check-retries": "2", "lock-check-min-wait-time": "0.05",
        "lock-check-max-wait-time": "0.1"})
    held = hms.call(lambda client: client.lock(impatient._create_lock_request(ns, tbl)))
    assert held.state == LockState.ACQUIRED
    try:
        with pytest.raises(CommitFailedException, match="lock"):
            impatient.load_table(name).append(rows_for(table, range(10)))
    finally:
        hms.call(lambda client: client.unlock(UnlockRequest(held.lockid)))
    impatient.load_table(name).append(rows_for(table, range(10)))
    assert T.oracle(hive_wh.table(name)).num_rows == 10


def test_unreachable_metastore_stops_startup(arrow_cache_bin, tmp_path):
    """The node lists the databases at start-up, so a dead metastore fails it at once."""
    stderr = _startup_error(tmp_path, f"thrift://127.0.0.1:{free_port()}", "hive")  # nothing listens
    assert "Connection refused" in stderr, stderr
