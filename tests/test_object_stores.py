"""Every object store the node reads, each against a real emulator: GCS (fake-gcs-server),
Azure Blob / ADLS Gen2 (azurite 3.35), and S3 with SigV4 enforced (moto checking signatures
against an IAM user's keys). pyiceberg writes the tables into each store through its own
FileIO (pyarrow's GCS and Azure file systems, adlfs); every result the node returns is
compared with pyiceberg's read of the same snapshot.

Also: credentials from the config and from the environment, wrong credentials and unreachable
endpoints (a clear error naming the location; the node keeps serving), and retries with
backoff under throttling, server errors and timeouts injected by a proxy in front of moto.
"""

from __future__ import annotations

import json
import threading
import time

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from support import stores as S
from support import tables as T
from support.cases import filter_cases
from support.changes import BASE, Writer, assert_reported_read, new_table
from support.compare import assert_same_rows
from support.expr import expected_scan
from support.faults import FaultProxy
from support.node import Node, free_port, grpc_status, server_message

TABLES = [T.ALL_TYPES, T.PART_IDENTITY, T.EVOLUTION]
STORES = ["gcs", "azure", "s3_sigv4"]
BUCKET = "warehouse"


def _start_node(tmp_path_factory, name: str, wh: T.Warehouse) -> Node:
    return Node(tmp_path_factory.mktemp(name), storage=wh.node_storage_config(), name=name).start()


# -- emulators, warehouses and nodes (one of each per module) ---------------------------------


@pytest.fixture(scope="module")
def fake_gcs(tmp_path_factory):
    server = S.start_fake_gcs(tmp_path_factory.mktemp("fake_gcs"))
    server.create_bucket(BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gcs_wh(fake_gcs, tmp_path_factory):
    return T.write_core_tables(S.gcs_warehouse(tmp_path_factory.mktemp("gcs_wh"), fake_gcs, BUCKET))


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    server = S.start_azurite(tmp_path_factory.mktemp("azurite"))
    server.create_container(BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def azure_wh(azurite, tmp_path_factory):
    wh = S.azure_warehouse(tmp_path_factory.mktemp("azure_wh"), azurite, BUCKET)
    return T.write_core_tables(wh)


@pytest.fixture(scope="module")
def sigv4_moto(tmp_path_factory):
    server = S.start_sigv4_moto(tmp_path_factory.mktemp("sigv4_moto"))
    server.create_user("arrow-cache")
    server.client(server.access_key, server.secret_key).create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sigv4_wh(sigv4_moto, tmp_path_factory):
    wh = T.s3_warehouse(tmp_path_factory.mktemp("sigv4_wh"), sigv4_moto.endpoint, BUCKET,
                        sigv4_moto.access_key, sigv4_moto.secret_key, S.REGION)
    T.write_core_tables(wh)
    sigv4_moto.enforce_auth()  # writers and readers alike must sign from here on
    return wh


@pytest.fixture(scope="module")
def store(request, tmp_path_factory):
    """(node, warehouse) for one store; the node reads with credentials from its config."""
    wh = request.getfixturevalue({"gcs": "gcs_wh", "azure": "azure_wh",
                                  "s3_sigv4": "sigv4_wh"}[request.param])
    node = _start_node(tmp_path_factory, f"{request.param}_node", wh)
    yield node, wh
    node.assert_alive()
    node.stop()


def pytest_generate_tests(metafunc):
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", STORES, indirect=True, scope="module")


# -- results equal pyiceberg's read of the same snapshot --------------------------------------


@pytest.mark.parametrize("name", TABLES)
def test_full_scan(store, name):
    node, wh = store
    _, got = node.scan({"table": name})
    assert_same_rows(got, T.oracle(wh.table(name)), context=name)


CASE_IDS = ["all_types-eq-s", "all_types-gt-eq-tstz-2024-06-01T00:00:00+00:00",
            "all_types-in-u", "all_types-is-nan-d", "all_types-eq-dec38",
            "part_identity-eq", "part_identity-is-null", "part_identity-partition-and-data"]
CASES = [c for c in filter_cases() if c.id in CASE_IDS]
assert len(CASES) == len(CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_filter(store, case):
    node, wh = store
    table = wh.table(case.table)
    _, got = node.scan({"table": case.table, "filter": case.expr})
    assert_same_rows(got, expected_scan(table, case.expr), context=case.id)


def test_projection(store):
    node, wh = store
    columns = ["region", "qty"]
    _, got = node.scan({"table": T.PART_IDENTITY, "columns": columns})
    assert_same_rows(got, T.oracle(wh.table(T.PART_IDENTITY), columns))


def test_every_snapshot_through_schema_evolution(store):
    """Time travel to each step (add, rename, drop, promote): old files under old schemas."""
    node, wh = store
    table = wh.table(T.EVOLUTION)
    snaps = wh.evolution_snapshots
    for snap in (snaps.initial, snaps.added, snaps.renamed, snaps.dropped, snaps.promoted):
        _, got = node.scan({"table": T.EVOLUTION, "snapshot_id": snap})
        assert_same_rows(got, T.oracle(table, snapshot_id=snap), context=f"snapshot {snap}")
    second = table.snapshots()[1]
    _, got = node.scan({"table": T.EVOLUTION, "as_of_timestamp_ms": second.timestamp_ms})
    assert_same_rows(got, T.oracle(table, snapshot_id=second.snapshot_id))


def test_commits_while_reading(store, tmp_path):
    """A writer commits appends, deletes, an overwrite, schema changes and a partition spec
    change into the store while a reader queries through a node that polls the catalog: every
    read equals pyiceberg's read of the snapshot and schema it reports, and the last commit is
    served within a poll interval."""
    _, wh = store
    node = Node(tmp_path / "node", storage=wh.node_storage_config(),
                caching={"poll_interval_ms": 200}).start()
    table, name = new_table(wh, BASE)
    writer = Writer(wh, name)
    ops = ["append", "append", "delete", "add_column", "partition", "append", "overwrite",
           "rename", "promote", "drop", "append"]
    done = threading.Event()
    errors: list[BaseException] = []

    def write():
        try:
            for op in ops:
                writer.commit(op, cut=150)
        except BaseException as e:  # noqa: BLE001 - reported by the reader's thread
            errors.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    seen = set()
    try:
        while not done.is_set():
            seen.add(assert_reported_read(node, wh, name)["snapshot_id"])
    finally:
        thread.join()
    assert not errors, errors
    last = wh.table(name).current_snapshot().snapshot_id
    deadline = time.monotonic() + 10
    while assert_reported_read(node, wh, name)["snapshot_id"] != last:
        assert time.monotonic() < deadline, "the last commit was not served within 10 s"
        time.sleep(0.1)
    assert len(seen) >= 2, f"the reader saw only snapshots {seen}"
    node.assert_alive()
    node.stop()


def test_sql_aggregate(store):
    node, wh = store
    got = node.sql("SELECT region, count(*) AS n, sum(qty) AS total_qty, min(id) AS first_id "
                   "FROM test.part_identity GROUP BY region")
    data = T.oracle(wh.table(T.PART_IDENTITY))
    want = data.group_by("region").aggregate([([], "count_all"), ("qty", "sum"), ("id", "min")])
    want = want.rename_columns({"count_all": "n", "qty_sum": "total_qty", "id_min": "first_id"})
    assert_same_rows(got, want.select(["region", "n", "total_qty", "first_id"]),
                     check_types=False)


def test_abfs_container_spelling(azurite, tmp_path_factory):
    """abfs://container/path (fsspec's spelling: the account comes from the config), written
    through pyarrow's Azure file system."""
    azurite.create_container("blobwh")
    wh = S.azure_blob_warehouse(tmp_path_factory.mktemp("azure_blob_wh"), azurite, "blobwh")
    T.write_part_identity(wh)
    node = _start_node(tmp_path_factory, "azure_blob_node", wh)
    try:
        _, got = node.scan({"table": T.PART_IDENTITY})
        assert_same_rows(got, T.oracle(wh.table(T.PART_IDENTITY)))
    finally:
        node.stop()


# -- credentials from the environment ---------------------------------------------------------


def _env_only(wh: T.Warehouse, env: dict, monkeypatch) -> dict:
    """The node's storage config with no object_store section: everything from `env`."""
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    storage = wh.node_storage_config()
    storage.pop("object_store", None)
    return storage


def test_credentials_from_environment_s3(sigv4_moto, sigv4_wh, node_factory, monkeypatch):
    storage = _env_only(sigv4_wh, {
        "AWS_ACCESS_KEY_ID": sigv4_moto.access_key,
        "AWS_SECRET_ACCESS_KEY": sigv4_moto.secret_key,
        "AWS_REGION": S.REGION,
        "AWS_ENDPOINT": sigv4_moto.endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
    }, monkeypatch)
    node = node_factory("s3_env", storage=storage).start()
    _, got = node.scan({"table": T.PART_IDENTITY})
    assert_same_rows(got, T.oracle(sigv4_wh.table(T.PART_IDENTITY)))


def test_credentials_from_environment_azure(azurite, azure_wh, node_factory, monkeypatch):
    storage = _env_only(azure_wh, {
        "AZURE_STORAGE_ACCOUNT_KEY": azurite.key,
        "AZURE_STORAGE_ENDPOINT": azurite.account_url,
        "AZURE_ALLOW_HTTP": "true",
    }, monkeypatch)
    node = node_factory("azure_env", storage=storage).start()
    _, got = node.scan({"table": T.PART_IDENTITY})
    assert_same_rows(got, T.oracle(azure_wh.table(T.PART_IDENTITY)))


def _gcs_key_file(tmp_path, fake_gcs) -> str:
    """A service-account key file as object_store reads it; `gcs_base_url` and
    `disable_oauth` are object_store's fields for emulators (no token exchange)."""
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "client_email": "arrow-cache@test.iam.gserviceaccount.com",
        "private_key_id": "test", "private_key": "unused with disable_oauth",
        "gcs_base_url": fake_gcs.endpoint, "disable_oauth": True}))
    return str(path)


def test_credentials_from_environment_gcs(fake_gcs, gcs_wh, node_factory, monkeypatch,
                                          tmp_path):
    storage = _env_only(gcs_wh, {
        "GOOGLE_SERVICE_ACCOUNT": _gcs_key_file(tmp_path, fake_gcs),
        "GOOGLE_ALLOW_HTTP": "true",
    }, monkeypatch)
    node = node_factory("gcs_env", storage=storage).start()
    _, got = node.scan({"table": T.PART_IDENTITY})
    assert_same_rows(got, T.oracle(gcs_wh.table(T.PART_IDENTITY)))


def test_service_account_file_from_config_gcs(fake_gcs, gcs_wh, node_factory, tmp_path):
    storage = gcs_wh.node_storage_config()
    storage["object_store"] = {"type": "gcs", "allow_http": True, "options": {
        "google_service_account": _gcs_key_file(tmp_path, fake_gcs)}}
    node = node_factory("gcs_key_file", storage=storage).start()
    _, got = node.scan({"table": T.ALL_TYPES, "columns": ["id", "s", "dec38"]})
    assert_same_rows(got, T.oracle(gcs_wh.table(T.ALL_TYPES), ["id", "s", "dec38"]))


# -- wrong credentials and unreachable stores: a clear error, and nothing lost -----------------


def _scan_error(node: Node, table: str, timeout: float = 60) -> BaseException:
    options = flight.FlightCallOptions(timeout=timeout)  # the node must give up before this
    client = node.flight_client()
    with pytest.raises(pa.ArrowException) as info:
        desc = flight.FlightDescriptor.for_command(json.dumps({"table": table}).encode())
        for ep in client.get_flight_info(desc, options).endpoints:
            client.do_get(ep.ticket, options).read_all()
    return info.value


def _assert_error(exc: BaseException, status: str, mentions: list[str]) -> str:
    message = server_message(exc)
    assert grpc_status(exc) == status, f"expected {status}: {exc}"
    assert message and "\n" not in message, f"not a one-line message: {message!r}"
    for m in mentions:
        assert m.lower() in message.lower(), f"message does not mention {m!r}: {message!r}"
    return message


# object_store would retry a refused connection for minutes; the tests need seconds.
FAST_RETRY = {"max_retries": 1, "init_backoff_ms": 10, "max_backoff_ms": 50}


@pytest.mark.parametrize("secret,code", [("wrong-secret", "SignatureDoesNotMatch"),
                                         (None, "InvalidAccessKeyId")],
                         ids=["wrong-secret", "unknown-key"])
def test_wrong_s3_credentials(sigv4_moto, sigv4_wh, node_factory, secret, code):
    storage = sigv4_wh.node_storage_config()
    if secret:
        storage["object_store"]["secret_access_key"] = secret
    else:
        storage["object_store"]["access_key_id"] = "AKIANOSUCHUSER000000"
    bad = node_factory("s3_bad_key", storage=storage).start()
    message = _assert_error(_scan_error(bad, T.ALL_TYPES), "PERMISSION_DENIED",
                            ["s3://warehouse/", "refused the credentials", code, "403"])
    assert sigv4_moto.secret_key not in message
    bad.assert_alive()
    # The same server still serves a node with the right key, exactly.
    good = node_factory("s3_good_key", storage=sigv4_wh.node_storage_config()).start()
    _, got = good.scan({"table": T.ALL_TYPES})
    assert_same_rows(got, T.oracle(sigv4_wh.table(T.ALL_TYPES)))


def test_wrong_azure_key(azurite, azure_wh, node_factory):
    storage = azure_wh.node_storage_config()
    # A well-formed key (base64) that is not the account's.
    storage["object_store"]["options"]["azure_storage_account_key"] = "d3Jvbmcta2V5" * 8
    bad = node_factory("azure_bad_key", storage=storage).start()
    _assert_error(_scan_error(bad, T.PART_IDENTITY), "PERMISSION_DENIED",
                  ["abfss://warehouse@devstoreaccount1", "refused the credentials", "403"])
    bad.assert_alive()


def test_missing_gcs_key_file(gcs_wh, node_factory, tmp_path):
    storage = gcs_wh.node_storage_config()
    storage["object_store"] = {"type": "gcs", "options": {
        "google_service_account": str(tmp_path / "no-such-key.json")}}
    node = node_factory("gcs_no_key", storage=storage).start()
    _assert_error(_scan_error(node, T.PART_IDENTITY), "UNAVAILABLE",
                  ["gs://warehouse", "no-such-key.json"])
    node.assert_alive()


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_unreachable_endpoint(kind, request, node_factory):
    wh = request.getfixturevalue(f"{kind}_wh")
    storage = wh.node_storage_config()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    storage["object_store"]["endpoint"] = dead if kind == "gcs" else f"{dead}/devstoreaccount1"
    storage["object_store"]["retry"] = FAST_RETRY
    node = node_factory(f"{kind}_dead", storage=storage).start()
    location = wh.warehouse.split("/wh")[0]
    message = _assert_error(_scan_error(node, T.PART_IDENTITY, timeout=30), "UNAVAILABLE",
                            [location, "127.0.0.1"])
    assert "connection refused" in message.lower(), message
    node.assert_alive()


# -- retries with backoff: throttling, server errors, timeouts --------------------------------


def _proxied_s3(s3_wh: T.Warehouse, proxy: FaultProxy, **object_store) -> dict:
    storage = s3_wh.node_storage_config()
    storage["object_store"].update(endpoint=proxy.endpoint, **object_store)
    return storage


def test_retries_survive_throttling_errors_and_timeouts(moto, s3_wh, node_factory):
    """The first attempt of every request fails (503 SlowDown, 429, 500, or hangs past the
    request timeout); with retries the node still returns exact rows."""
    proxy = FaultProxy(moto.endpoint, hang_seconds=5.0, max_hangs=2)
    try:
        storage = _proxied_s3(s3_wh, proxy, request_timeout_ms=2000, retry={
            "max_retries": 3, "init_backoff_ms": 10, "max_backoff_ms": 100})
        node = node_factory("s3_faults", storage=storage).start()
        for name in (T.PART_IDENTITY, T.ALL_TYPES):
            _, got = node.scan({"table": name})
            assert_same_rows(got, T.oracle(s3_wh.table(name)), context=name)
        assert proxy.passed > 0
        for kind in FaultProxy.KINDS:
            assert proxy.injected[kind] > 0, f"no {kind} injected: {proxy.injected}"
        # Every request the node made was retried until it passed.
        assert all(n >= 2 for n in proxy.seen.values()), proxy.seen
    finally:
        proxy.stop()


def test_without_retries_a_throttled_read_fails_clearly_and_loses_nothing(moto, s3_wh,
                                                                          node_factory):
    proxy = FaultProxy(moto.endpoint, max_hangs=0)
    proxy.mode = "always"
    try:
        storage = _proxied_s3(s3_wh, proxy, retry={"max_retries": 0})
        node = node_factory("s3_no_retry", storage=storage).start()
        _assert_error(_scan_error(node, T.PART_IDENTITY), "UNAVAILABLE", ["s3://warehouse/"])
        proxy.mode = "off"  # the store recovers: the same node now answers exactly
        _, got = node.scan({"table": T.PART_IDENTITY})
        assert_same_rows(got, T.oracle(s3_wh.table(T.PART_IDENTITY)))
        got = node.sql("SELECT count(*) AS n FROM test.part_identity")
        assert got.column(0).to_pylist() == [T.oracle(s3_wh.table(T.PART_IDENTITY)).num_rows]
    finally:
        proxy.stop()
