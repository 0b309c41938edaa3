"""Bad configuration stops start-up with an error naming the key; bad requests get the right
gRPC status and a useful one-line message, never crash the node, and never poison the cache."""

import json
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight
import pytest
import yaml
from pyiceberg.expressions import EqualTo

from support import tables as T
from support.compare import assert_same_rows
from support.expr import pred
from support.node import (base_config, binary, concat, free_port, grpc_status,
                          serve_expecting_failure, server_message)


def _ports():
    return {"flight_port": free_port(), "grpc_port": free_port(), "http_port": free_port()}


def _serve_expecting_failure(tmp_path: Path, config_text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "bad.yaml"
    path.write_text(config_text)
    return serve_expecting_failure(path, f"an invalid config:\n{config_text}", timeout=30)


def _mutate(storage: dict, change) -> str:
    config = base_config(storage, _ports())
    change(config["cache_node"])
    return yaml.safe_dump(config, sort_keys=False)


CONFIG_ERRORS = {
    "unknown-key": (lambda c: c["memory"].update(total_memroy="1GB"), ["total_memroy"]),
    "unknown-section": (lambda c: c.update(cachng={"ttl_seconds": 5}), ["cachng"]),
    "bad-size": (lambda c: c["memory"].update(total_memory="lots"), ["total_memory"]),
    "bad-policy": (lambda c: c["caching"].update(eviction_policy="random"),
                   ["eviction_policy"]),
    "bad-percent-type": (lambda c: c["memory"].update(arrow_pool_percent="eighty"),
                         ["arrow_pool_percent"]),
    "port-out-of-range": (lambda c: c["networking"].update(flight_port=70000),
                          ["flight_port"]),
    "bad-catalog-type": (lambda c: c["storage"]["iceberg"].update(catalog_type="oracle"),
                         ["catalog_type"]),
    "bad-ttl": (lambda c: c["caching"].update(ttl_seconds=-5), ["ttl_seconds"]),
}


@pytest.mark.parametrize("case", list(CONFIG_ERRORS))
def test_bad_config_stops_startup(arrow_cache_bin, local_wh, tmp_path, case):
    change, mentions = CONFIG_ERRORS[case]
    result = _serve_expecting_failure(tmp_path, _mutate(local_wh.node_storage_config(), change))
    for m in mentions:
        assert m in result.stderr, f"stderr does not name {m!r}:\n{result.stderr}"


def test_config_that_is_not_yaml(arrow_cache_bin, tmp_path):
    _serve_expecting_failure(tmp_path, "cache_node: [this is not closed\n")


def test_missing_config_file(arrow_cache_bin, tmp_path):
    missing = tmp_path / "nope.yaml"
    result = subprocess.run([binary(), "serve", "--config", str(missing)], capture_output=True,
                            text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode > 0
    assert "nope.yaml" in result.stderr


# -- bad requests ----------------------------------------------------------------------------


def _raw_scan(node, payload: bytes) -> pa.Table:
    client = node.flight_client()
    info = client.get_flight_info(flight.FlightDescriptor.for_command(payload))
    return concat([client.do_get(ep.ticket).read_all() for ep in info.endpoints], info.schema)


def _scan(table="test.all_types", **kw):
    return lambda node: node.scan({"table": table, **kw})


def _sql(query):
    return lambda node: node.sql(query)


# (call, accepted gRPC statuses, words the message must contain: a tuple means any of them)
BAD_REQUESTS = {
    "scan-unknown-table": (_scan("test.no_such_table"), {"NOT_FOUND"}, ["no_such_table"]),
    "scan-unknown-namespace": (_scan("nons.all_types"), {"NOT_FOUND"}, ["nons"]),
    "sql-unknown-table": (_sql("SELECT * FROM test.no_such_table"), {"NOT_FOUND"},
                          ["no_such_table"]),
    "stats-unknown-table": (lambda n: n.do_action("table_stats", {"table": "test.no_such"}),
                            {"NOT_FOUND"}, ["no_such"]),
    "scan-unknown-column": (_scan(columns=["id", "no_such_col"]), {"INVALID_ARGUMENT"},
                            ["no_such_col"]),
    "filter-unknown-column": (_scan(filter=pred("eq", "no_such_col", 1)), {"INVALID_ARGUMENT"},
                              ["no_such_col"]),
    "sql-unknown-column": (_sql("SELECT no_such_col FROM test.all_types"),
                           {"INVALID_ARGUMENT"}, ["no_such_col"]),
    "sql-syntax": (_sql("SELEC * FROM test.all_types"), {"INVALID_ARGUMENT"}, []),
    "sql-unknown-function": (_sql("SELECT no_such_fn(i) FROM test.all_types"),
                             {"INVALID_ARGUMENT"}, ["no_such_fn"]),
    "scan-malformed-json": (lambda n: _raw_scan(n, b'{"table": "test.all_types", '),
                            {"INVALID_ARGUMENT"}, []),
    "scan-without-table": (lambda n: _raw_scan(n, b'{"columns": ["id"]}'), {"INVALID_ARGUMENT"},
                           ["table"]),
    "filter-unknown-operator": (_scan(filter={"type": "like", "term": "s", "value": "a%"}),
                                {"INVALID_ARGUMENT"}, ["like"]),
    "filter-wrong-value-type": (_scan(filter=pred("eq", "i", "seven")), {"INVALID_ARGUMENT"},
                                [("seven", "'i'", "`i`", '"i"', " i ")]),
    "filter-bad-date": (_scan(filter=pred("lt", "dt", "not-a-date")), {"INVALID_ARGUMENT"},
                        ["not-a-date"]),
    "filter-decimal-scale-loss": (_scan(filter=pred("eq", "dec9", "1.234")),
                                  {"INVALID_ARGUMENT"}, ["1.234"]),
    "filter-starts-with-on-int": (_scan(filter=pred("starts-with", "i", "1")),
                                  {"INVALID_ARGUMENT"}, [("starts-with", "starts_with")]),
    "filter-null-literal": (_scan(filter=pred("eq", "i", None)), {"INVALID_ARGUMENT"}, []),
    "filter-in-without-values": (_scan(filter={"type": "in", "term": "i"}),
                                 {"INVALID_ARGUMENT"}, ["values"]),
    "filter-not-an-object": (_scan(filter="i > 3"), {"INVALID_ARGUMENT"}, ["filter"]),
    "columns-not-a-list": (_scan(columns="id"), {"INVALID_ARGUMENT"}, ["columns"]),
    "negative-limit": (_scan(limit=-1), {"INVALID_ARGUMENT"}, ["limit"]),
    "unknown-snapshot": (_scan(snapshot_id=123456789), {"NOT_FOUND", "INVALID_ARGUMENT"},
                         ["123456789"]),
    "garbage-ticket": (lambda n: n.flight_client().do_get(
        flight.Ticket(b"\xff\xfe\x00garbage")).read_all(), {"INVALID_ARGUMENT"}, []),
    "unknown-action": (lambda n: n.do_action("no_such_action", {}),
                       {"INVALID_ARGUMENT", "UNIMPLEMENTED"}, ["no_such_action"]),
}


def assert_still_serves(node, wh):
    """After a bad request the node answers a good one, exactly."""
    _, got = node.scan({"table": T.PART_BUCKET, "filter": pred("eq", "id", 42)})
    assert_same_rows(got, T.oracle(wh.table(T.PART_BUCKET), row_filter=EqualTo("id", 42)))


def _check_error(exc: BaseException, statuses: set, mentions: list) -> None:
    status = grpc_status(exc)
    message = server_message(exc)
    assert status in statuses, f"gRPC status {status}, expected {statuses}: {exc}"
    assert message and "\n" not in message, f"not a one-line message: {message!r}"
    for m in mentions:
        options = m if isinstance(m, tuple) else (m,)
        assert any(o.lower() in message.lower() for o in options), (
            f"message does not mention {' or '.join(map(repr, options))}: {message!r}")


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request(local_node, local_wh, case):
    call, statuses, mentions = BAD_REQUESTS[case]
    assert_still_serves(local_node, local_wh)  # warm a table whose answers must not change
    with pytest.raises(pa.ArrowException) as info:
        call(local_node)
    _check_error(info.value, statuses, mentions)
    assert_still_serves(local_node, local_wh)


# -- damaged data and unreachable stores ----------------------------------------------------


def test_corrupt_parquet_file_is_reported_and_not_cached(local_node, local_wh, tmp_path):
    table = local_wh.table(T.CORRUPT)
    expected = T.oracle(table)
    victim = Path(T.data_files(table)[1].removeprefix("file://"))
    backup = tmp_path / "backup.parquet"
    shutil.copyfile(victim, backup)
    size = victim.stat().st_size
    # Start cold whatever ran before, so the damaged file really is read.
    local_node.do_action("invalidate", {"table": T.CORRUPT})
    try:
        # Same size, garbage content (keeps any size check from catching it early).
        victim.write_bytes((b"not parquet at all " * (size // 19 + 1))[:size])
        for call in (lambda: local_node.scan({"table": T.CORRUPT}),
                     lambda: local_node.sql("SELECT count(*), max(s) FROM test.corrupt")):
            with pytest.raises(pa.ArrowException) as info:
                call()
            message = server_message(info.value)
            assert victim.name in message, f"error does not name the file: {message!r}"
            assert_still_serves(local_node, local_wh)
    finally:
        shutil.copyfile(backup, victim)
    # Nothing from the failed reads was cached: the same requests now succeed, exactly.
    _, got = local_node.scan({"table": T.CORRUPT})
    assert_same_rows(got, expected)
    count = local_node.sql("SELECT count(*) AS n FROM test.corrupt")
    assert count.column(0).to_pylist() == [expected.num_rows]


def test_unreachable_object_store_is_unavailable(node_factory, s3_wh):
    storage = s3_wh.node_storage_config()
    storage["object_store"]["endpoint"] = f"http://127.0.0.1:{free_port()}"  # nothing there
    node = node_factory("dead_store", storage=storage).start()
    options = flight.FlightCallOptions(timeout=90)  # the node must give up before this
    with pytest.raises(pa.ArrowException) as info:
        client = node.flight_client()
        desc = flight.FlightDescriptor.for_command(json.dumps({"table": T.ALL_TYPES}).encode())
        flight_info = client.get_flight_info(desc, options)
        for ep in flight_info.endpoints:
            client.do_get(ep.ticket, options).read_all()
    _check_error(info.value, {"UNAVAILABLE"}, [])
    node.assert_alive()
