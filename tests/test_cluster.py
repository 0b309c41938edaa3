"""The cache cluster (issue 3): several `arrow-cache serve` processes on loopback addresses
(127.0.0.1, .2, .3) forming one cluster with static membership or etcd.

Every result is compared with pyiceberg's read of the same snapshot, from every entry node:
any node accepts any request, routes each split to its owners and returns exact rows, also
while a node is killed with `kill -9` (replication 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pyarrow as pa
import pyarrow.flight as flight
import pytest
from pyiceberg.expressions import And, EqualTo, GreaterThan

from support import tables as T
from support.compare import assert_same_rows
from support.node import Node, binary, free_port, stop_process

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
FAST = {"heartbeat_interval_ms": 200, "failure_timeout_ms": 1500}
CLUSTER_TABLES = [T.MANY_FILES, T.PART_IDENTITY, T.ALL_TYPES]


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> T.Warehouse:
    wh = T.local_warehouse(tmp_path_factory.mktemp("cluster_wh"))
    T.write_many_files(wh)
    T.write_part_identity(wh)
    T.write_all_types(wh)
    return wh


def make_nodes(root, wh, n: int, names=None) -> list[Node]:
    names = names or [f"n{i}" for i in range(n)]
    return [Node(root / name, storage=wh.node_storage_config(), name=name, host=HOSTS[i])
            for i, name in enumerate(names)]


def static(nodes: list[Node]) -> str:
    return "static://" + ",".join(n.control_addr for n in nodes)


def action(node: Node, name: str, body: dict | None = None) -> dict:
    client = node.new_flight_client()
    try:
        results = list(client.do_action(flight.Action(name, json.dumps(body or {}).encode())))
        return json.loads(results[0].body.to_pybytes())
    finally:
        client.close()


def up_members(node: Node) -> set[str]:
    return {m["node_id"] for m in action(node, "cluster_status")["nodes"] if m["status"] == "up"}


def wait_members(nodes: list[Node], expected: set[str], timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    seen = {}
    while time.time() < deadline:
        seen = {n.name: up_members(n) for n in nodes}
        if all(s == expected for s in seen.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"members did not converge to {sorted(expected)}: {seen}")


def start_cluster(nodes: list[Node], discovery: str, **cluster) -> list[Node]:
    for node in nodes:
        node.join(discovery, **{**FAST, **cluster})
    for node in nodes:
        node.start()
    wait_members(nodes, {n.name for n in nodes})
    return nodes


def sql(node: Node, query: str) -> pa.Table:
    client = node.new_flight_client()
    try:
        return client.do_get(flight.Ticket(query.encode())).read_all()
    finally:
        client.close()


def scan_info(node: Node, request: dict) -> flight.FlightInfo:
    client = node.new_flight_client()
    try:
        return client.get_flight_info(flight.FlightDescriptor.for_command(json.dumps(request)))
    finally:
        client.close()


def read_endpoint(endpoint: flight.FlightEndpoint, locations=None) -> pa.Table:
    """Reads an endpoint from the first of its locations that answers, as a client that retries
    on a replica does (a read that fails part-way is discarded and repeated elsewhere)."""
    errors = []
    for location in locations or endpoint.locations:
        client = flight.FlightClient(location)
        try:
            return client.do_get(endpoint.ticket).read_all()
        except (flight.FlightUnavailableError, flight.FlightInternalError, OSError) as e:
            errors.append(f"{location}: {e}")
        finally:
            client.close()
    raise AssertionError(f"no location could serve the endpoint: {errors}")


def read_scan(node: Node, request: dict) -> tuple[flight.FlightInfo, pa.Table]:
    info = scan_info(node, request)
    parts = [read_endpoint(ep) for ep in info.endpoints]
    schema = info.schema
    return info, pa.concat_tables([p.cast(schema) for p in parts]) if parts else schema.empty_table()


def location_host(location) -> str:
    uri = location.uri.decode() if hasattr(location, "uri") else str(location)
    return uri.split("://", 1)[1]


# --------------------------------------------------------------------------------------------
# A static three-node cluster, replication 2, shared by the read-only tests.

@pytest.fixture(scope="module")
def static_cluster(arrow_cache_bin, wh, tmp_path_factory):
    nodes = make_nodes(tmp_path_factory.mktemp("static"), wh, 3)
    # n1 asks its peers for ZSTD-compressed Arrow IPC, as off-host nodes would (LZ4 by default).
    nodes[1].config["cache_node"]["networking"]["ipc_compression"] = "zstd"
    try:
        yield start_cluster(nodes, static(nodes), replication_factor=2)
    finally:
        for n in nodes:
            n.stop()


QUERIES = [
    (f"SELECT * FROM {T.MANY_FILES}", T.MANY_FILES, None, None),
    (f"SELECT id, v FROM {T.MANY_FILES} WHERE part = 7 AND v > 0", T.MANY_FILES,
     And(EqualTo("part", 7), GreaterThan("v", 0.0)), ["id", "v"]),
    (f"SELECT * FROM {T.PART_IDENTITY} WHERE region = 'eu'", T.PART_IDENTITY,
     EqualTo("region", "eu"), None),
    (f"SELECT * FROM {T.ALL_TYPES}", T.ALL_TYPES, None, None),
]


@pytest.mark.parametrize("query,table,row_filter,columns", QUERIES, ids=range(len(QUERIES)))
def test_sql_is_exact_from_every_entry_node(static_cluster, wh, query, table, row_filter, columns):
    expected = T.oracle(wh.tables[table], columns, row_filter)
    for node in static_cluster:
        assert_same_rows(sql(node, query), expected)


def test_aggregate_from_every_entry_node(static_cluster, wh):
    rows = T.oracle(wh.tables[T.MANY_FILES]).to_pylist()
    want = Counter(r["part"] for r in rows)
    for node in static_cluster:
        got = sql(node, f"SELECT part, count(*) AS n FROM {T.MANY_FILES} GROUP BY part").to_pylist()
        assert {r["part"]: r["n"] for r in got} == dict(want), node.name


def by_part(rows: list[dict]) -> dict:
    """part -> (count, sum, min, max, avg, distinct s) of the rows with v > 0: what
    PART_AGGREGATE returns. Sums are exact: every v is a multiple of 1/8."""
    groups: dict[int, list[dict]] = {}
    for r in rows:
        if r["v"] > 0:
            groups.setdefault(r["part"], []).append(r)
    return {p: (len(g), sum(r["v"] for r in g), min(r["v"] for r in g), max(r["v"] for r in g),
                sum(r["v"] for r in g) / len(g), len({r["s"] for r in g})) for p, g in groups.items()}


PART_AGGREGATE = (f"SELECT part, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean, "
                  f"count(DISTINCT s) AS kinds FROM {T.MANY_FILES} WHERE v > 0 GROUP BY part")


def part_aggregate(node: Node) -> dict:
    return {r["part"]: (r["n"], r["total"], r["lo"], r["hi"], r["mean"], r["kinds"])
            for r in sql(node, PART_AGGREGATE).to_pylist()}


def test_partial_aggregates_run_on_the_owners(static_cluster, wh):
    """Aggregates over a table split across nodes run their partial phase on the owners
    (EXPLAIN shows the fragment) and still equal pyiceberg's read from every entry node."""
    rows = T.oracle(wh.tables[T.MANY_FILES]).to_pylist()
    want_parts = by_part(rows)
    want_totals = {"n": len(rows), "ids": sum(r["id"] for r in rows),
                   "lo": min(r["s"] for r in rows), "hi": max(r["s"] for r in rows)}
    small = Counter(r["s"] for r in rows if r["part"] < 10)
    want_having = {s: n for s, n in small.items() if n > 2}
    for node in static_cluster:
        plan = sql(node, f"EXPLAIN {PART_AGGREGATE}").to_pydict()
        physical = "\n".join(p for t, p in zip(plan["plan_type"], plan["plan"]) if t == "physical_plan")
        assert "OwnerFragmentExec: runs on owners" in physical and "mode=Partial" in physical, physical
        assert part_aggregate(node) == want_parts, node.name
        got = sql(node, f"SELECT count(*) AS n, sum(id) AS ids, min(s) AS lo, max(s) AS hi "
                        f"FROM {T.MANY_FILES}").to_pylist()
        assert got == [want_totals], node.name
        got = sql(node, f"SELECT s, count(*) AS n FROM {T.MANY_FILES} WHERE part < 10 "
                        f"GROUP BY s HAVING count(*) > 2").to_pylist()
        assert {r["s"]: r["n"] for r in got} == want_having, node.name


def test_scan_endpoints_list_owners_and_spread(static_cluster, wh):
    flights = {n.flight_port: n for n in static_cluster}
    expected = T.oracle(wh.tables[T.MANY_FILES])
    for entry in static_cluster:
        info, got = read_scan(entry, {"table": T.MANY_FILES})
        assert_same_rows(got, expected)
        primaries = Counter()
        for ep in info.endpoints:
            hosts = [location_host(loc) for loc in ep.locations]
            assert len(hosts) == 2 and len(set(hosts)) == 2, f"expected primary + replica: {hosts}"
            assert all(int(h.rsplit(":", 1)[1]) in flights for h in hosts), hosts
            primaries[hosts[0]] += 1
        # 120 files over 3 nodes: every node is primary for a fair share.
        assert len(primaries) == 3, primaries
        assert min(primaries.values()) >= len(info.endpoints) / 6, primaries


def test_split_read_from_a_node_that_does_not_own_it(static_cluster, wh):
    info = scan_info(static_cluster[0], {"table": T.MANY_FILES, "columns": ["id", "part"]})
    ep = info.endpoints[0]
    owners = {location_host(loc) for loc in ep.locations}
    stranger = next(n for n in static_cluster if f"{n.host}:{n.flight_port}" not in owners)
    assert_same_rows(read_endpoint(ep, [stranger.flight_uri]), read_endpoint(ep))


@pytest.mark.parametrize("codec", [b"lz4", b"zstd", b"none"])
def test_compressed_split_reads_are_exact(static_cluster, codec):
    """Nodes ask each other for LZ4/ZSTD Arrow IPC (off loopback by default); any client may."""
    entry = static_cluster[0]
    info = scan_info(entry, {"table": T.ALL_TYPES})
    options = flight.FlightCallOptions(headers=[(b"x-arrow-cache-ipc-compression", codec)])
    client = entry.new_flight_client()
    try:
        for ep in info.endpoints:
            assert_same_rows(client.do_get(ep.ticket, options).read_all(), read_endpoint(ep))
        bad = flight.FlightCallOptions(headers=[(b"x-arrow-cache-ipc-compression", b"snappy")])
        with pytest.raises(pa.ArrowInvalid, match="snappy"):
            client.do_get(info.endpoints[0].ticket, bad).read_all()
    finally:
        client.close()


def test_table_operations_run_on_every_node(static_cluster, wh):
    first = static_cluster[0]
    action(first, "invalidate", {"table": T.MANY_FILES})
    warm = action(first, "warm", {"table": T.MANY_FILES})
    assert {n["node_id"] for n in warm["nodes"] if n["ok"]} == {"n0", "n1", "n2"}, warm
    # Each node warms what it owns (primary or replica): with R=2 of 3 nodes, 2/3 of the files.
    for n in warm["nodes"]:
        assert 0 < n["files"] < 120, warm
    stats = action(static_cluster[1], "table_stats", {"table": T.MANY_FILES})
    per_node = {n["node_id"]: n["bytes_cached"] for n in stats["nodes"]}
    assert all(b > 0 for b in per_node.values()), stats
    assert stats["bytes_cached"] == sum(per_node.values())
    assert set(stats["partitions"]) >= {"part=0", "part=59"}
    # Invalidating one partition drops only it, on every node.
    one = action(static_cluster[2], "invalidate", {"table": T.MANY_FILES, "partition": "part=0"})
    # (footers of the partition's files are freed too)
    assert one["bytes_freed"] >= stats["partitions"]["part=0"]["bytes_cached"] > 0, one
    left = action(first, "table_stats", {"table": T.MANY_FILES})
    assert left["partitions"].get("part=0", {"bytes_cached": 0})["bytes_cached"] == 0
    assert left["partitions"]["part=59"]["bytes_cached"] == stats["partitions"]["part=59"]["bytes_cached"]
    stats = left
    freed = action(static_cluster[2], "invalidate", {"table": T.MANY_FILES})
    assert freed["bytes_freed"] >= stats["bytes_cached"] > 0
    after = action(first, "table_stats", {"table": T.MANY_FILES})
    assert after["bytes_cached"] == 0, after


def test_cluster_status_cli(static_cluster):
    out = subprocess.run([binary(), "cluster", "status", "--cluster", static_cluster[1].control_addr],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["replication_factor"] == 2
    assert {n["node_id"] for n in status["nodes"] if n["status"] == "up"} == {"n0", "n1", "n2"}


def test_query_cli_through_any_node(static_cluster, wh):
    expected = T.oracle(wh.tables[T.MANY_FILES]).num_rows
    out = subprocess.run([binary(), "query", "--cluster", static_cluster[2].control_addr,
                          f"SELECT count(*) AS n FROM {T.MANY_FILES}", "--format", "csv"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(expected)


# --------------------------------------------------------------------------------------------
# Failures: kill -9 while clients read; join and leave; bad discovery.

def kill9(node: Node) -> None:
    os.kill(node.proc.pid, signal.SIGKILL)
    node.proc.wait()


@pytest.mark.timeout(300)
def test_kill_9_while_reading_is_exact(arrow_cache_bin, wh, tmp_path):
    nodes = make_nodes(tmp_path, wh, 3)
    try:
        start_cluster(nodes, static(nodes), replication_factor=2)
        entry, victim = nodes[0], nodes[2]
        action(entry, "warm", {"table": T.MANY_FILES})
        expected = T.oracle(wh.tables[T.MANY_FILES])
        failures: list[str] = []
        done = threading.Event()
        rounds = Counter()

        def sql_reader():
            while not done.is_set():
                try:
                    assert_same_rows(sql(entry, f"SELECT * FROM {T.MANY_FILES}"), expected)
                    rounds["sql"] += 1
                except Exception as e:  # noqa: BLE001 - collected and reported below
                    failures.append(f"sql: {e!r}"[:2000])

        want_parts = by_part(expected.to_pylist())

        def aggregate_reader():  # partial aggregates on the owners fail over too
            while not done.is_set():
                try:
                    assert part_aggregate(entry) == want_parts
                    rounds["aggregate"] += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"aggregate: {e!r}"[:2000])

        def scan_reader():
            while not done.is_set():
                try:
                    assert_same_rows(read_scan(nodes[1], {"table": T.MANY_FILES})[1], expected)
                    rounds["scan"] += 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"scan: {e!r}"[:2000])

        threads = [threading.Thread(target=f) for f in (sql_reader, aggregate_reader, scan_reader)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        kill9(victim)
        killed_rounds = dict(rounds)
        time.sleep(4)  # past the failure timeout: the ring no longer has the victim
        done.set()
        for t in threads:
            t.join(120)
        assert not failures, failures[:3]
        assert all(rounds[k] > killed_rounds.get(k, 0) for k in ("sql", "aggregate", "scan")), (
            f"readers made no progress after the kill: {killed_rounds} -> {dict(rounds)}")

        # The survivors see the victim down and plan without it.
        wait_members(nodes[:2], {"n0", "n1"})
        info = scan_info(entry, {"table": T.MANY_FILES})
        assert all(str(victim.flight_port) not in location_host(loc)
                   for ep in info.endpoints for loc in ep.locations)

        # It comes back and rejoins.
        victim.start()
        wait_members(nodes, {"n0", "n1", "n2"})
        assert_same_rows(sql(victim, f"SELECT * FROM {T.MANY_FILES}"), expected)
    finally:
        for n in nodes:
            n.stop()


def primaries(node: Node) -> dict[bytes, str]:
    """Split ticket -> primary location, for the table's splits as `node` plans them."""
    info = scan_info(node, {"table": T.MANY_FILES})
    out = {}
    for ep in info.endpoints:
        ticket = json.loads(ep.ticket.ticket)
        for part in ticket["split"]["parts"]:
            out[part["path"]] = location_host(ep.locations[0])
    return out


@pytest.mark.timeout(300)
def test_join_and_leave_move_about_one_nth(arrow_cache_bin, wh, tmp_path):
    nodes = make_nodes(tmp_path, wh, 4)
    discovery = static(nodes)  # the fourth is listed but starts later
    try:
        for n in nodes:
            n.join(discovery, replication_factor=1, **FAST)
        for n in nodes[:3]:
            n.start()
        wait_members(nodes[:3], {"n0", "n1", "n2"})
        before = primaries(nodes[0])
        nodes[3].start()
        wait_members(nodes, {"n0", "n1", "n2", "n3"})
        after = primaries(nodes[0])
        assert before.keys() == after.keys()
        moved = [f for f in before if before[f] != after[f]]
        newcomer = f"{nodes[3].host}:{nodes[3].flight_port}"
        assert all(after[f] == newcomer for f in moved), "a join moves files only to the new node"
        share = len(moved) / len(before)
        assert 0.10 <= share <= 0.40, f"{share:.2f} of the files moved on a join; ideal 1/4"
        nodes[3].stop()
        wait_members(nodes[:3], {"n0", "n1", "n2"})
        assert primaries(nodes[0]) == before, "a leave gives the files back to their old owners"
    finally:
        for n in nodes:
            n.stop()


def test_duplicate_node_ids_are_rejected(arrow_cache_bin, wh, tmp_path):
    nodes = make_nodes(tmp_path, wh, 3, names=["a", "b", "c"])
    try:
        for n in nodes:
            n.join(static(nodes), **FAST)
        nodes[2].config["cache_node"]["cluster"]["node_id"] = "b"  # c claims b's id
        nodes[2].write_config()
        for n in nodes:
            n.start()
        time.sleep(1.5)
        status = action(nodes[0], "cluster_status")
        rejected = [m for m in status["nodes"] if m["status"] == "rejected"]
        assert rejected and "duplicate cluster.node_id `b`" in rejected[0]["error"], status
        # The cluster still answers, exactly.
        assert_same_rows(sql(nodes[0], f"SELECT * FROM {T.PART_IDENTITY}"),
                         T.oracle(wh.tables[T.PART_IDENTITY]))
    finally:
        for n in nodes:
            n.stop()


def test_a_peer_that_is_not_a_node_is_reported(arrow_cache_bin, wh, tmp_path):
    (node,) = make_nodes(tmp_path, wh, 1)
    # Its own HTTP port answers HTTP, not the control plane.
    node.join(f"static://{node.control_addr},{node.host}:{node.http_port}", **FAST)
    with node:
        time.sleep(1.0)
        status = action(node, "cluster_status")
        other = [m for m in status["nodes"] if m["control"] == f"{node.host}:{node.http_port}"]
        assert other and other[0]["status"] == "down", status
        assert "is not an arrow-cache control plane" in other[0]["error"], status
        assert up_members(node) == {"n0"}


def test_bad_discovery_is_a_config_error(arrow_cache_bin, wh, tmp_path):
    (node,) = make_nodes(tmp_path, wh, 1)
    for bad, needle in [("static://", "lists no address"), ("static://nohost", "is not host:port"),
                        ("zk://a:1", "static://")]:
        node.join(bad)
        out = subprocess.run([binary(), "serve", "--config", str(node.config_path)],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode != 0
        assert "discovery_service" in out.stderr and needle in out.stderr, out.stderr


def test_unreachable_etcd_stops_start_up(arrow_cache_bin, wh, tmp_path):
    (node,) = make_nodes(tmp_path, wh, 1)
    port = free_port()  # nothing listens here
    node.join(f"etcd://127.0.0.1:{port}")
    proc = subprocess.Popen([binary(), "serve", "--config", str(node.config_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        stop_process(proc)
    assert proc.returncode != 0
    assert "etcd" in err and str(port) in err, err


# --------------------------------------------------------------------------------------------
# etcd membership with a real etcd.

@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    from support.etcd import EtcdServer
    with EtcdServer(tmp_path_factory.mktemp("etcd")) as server:
        yield server


@pytest.mark.timeout(300)
def test_etcd_cluster_is_exact_and_notices_a_kill(arrow_cache_bin, wh, etcd, tmp_path):
    nodes = make_nodes(tmp_path, wh, 3)
    try:
        start_cluster(nodes, f"etcd://{etcd.endpoint}", replication_factor=2,
                      etcd_prefix=f"/arrow-cache-test-{os.getpid()}")
        for query, table, row_filter, columns in QUERIES[:3]:
            expected = T.oracle(wh.tables[table], columns, row_filter)
            for node in nodes:
                assert_same_rows(sql(node, query), expected)
        kill9(nodes[2])
        # The lease (failure_timeout_ms) expires and the others see the node go.
        wait_members(nodes[:2], {"n0", "n1"}, timeout=10)
        assert_same_rows(sql(nodes[0], QUERIES[0][0]), T.oracle(wh.tables[T.MANY_FILES]))
        nodes[2].start()
        wait_members(nodes, {"n0", "n1", "n2"}, timeout=10)
    finally:
        for n in nodes:
            n.stop()


# --------------------------------------------------------------------------------------------
# Snapshots: a query reads one snapshot everywhere, and one node's new snapshot reaches all.

@pytest.mark.timeout(300)
def test_a_new_snapshot_found_by_one_node_reaches_the_others(arrow_cache_bin, tmp_path):
    wh = T.local_warehouse(tmp_path / "wh")
    table = T.write_part_identity(wh)
    nodes = make_nodes(tmp_path, wh, 3)
    # n0 re-reads table metadata every second; n1 and n2 would trust theirs for 10 minutes.
    nodes[0].config["cache_node"]["caching"]["ttl_seconds"] = 1
    try:
        start_cluster(nodes, static(nodes), replication_factor=2)
        query = f"SELECT * FROM {T.PART_IDENTITY}"
        before = T.oracle(table)
        for n in nodes:
            assert_same_rows(sql(n, query), before)
        table.append(T._arrow(table, [{"id": 10**6 + i, "region": "eu", "qty": i, "amount": 1.5,
                                       "note": "late"} for i in range(40)]))
        table = wh.catalog.load_table(T.PART_IDENTITY)
        after = T.oracle(table)
        time.sleep(1.2)
        # n0 notices the new snapshot; n1 and n2 hear of it from n0.
        assert_same_rows(sql(nodes[0], query), after)
        deadline = time.time() + 10
        while True:
            try:
                for n in nodes[1:]:
                    assert_same_rows(sql(n, query), after)
                break
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        for n in nodes:
            n.stop()


def test_scan_request_aggregates_from_every_entry_node(static_cluster, wh):
    """A `final` aggregate scan request is one endpoint answered with the owners' partial
    aggregates merged; `partial` endpoints each carry their split's aggregate and list its
    owners. Both equal pyiceberg's read from every entry node."""
    rows = T.oracle(wh.tables[T.MANY_FILES]).to_pylist()
    want = {p: (n, total) for p, (n, total, *_rest) in by_part(rows).items()}
    functions = [{"fn": "count_star"}, {"fn": "sum", "term": "v"}]
    for node in static_cluster:
        for mode in ["final", "partial"]:
            request = {"table": T.MANY_FILES, "filter": {"type": "gt", "term": "v", "value": 0},
                       "aggregate": {"group_by": ["part"], "functions": functions, "mode": mode}}
            info, got = read_scan(node, request)
            merged: dict[int, tuple[int, float]] = {}
            for r in got.to_pylist():
                n, total = merged.get(r["part"], (0, 0.0))
                merged[r["part"]] = (n + r["count_star"], total + r["sum(v)"])
            assert merged == want, (node.name, mode)
            if mode == "final":
                assert len(info.endpoints) == 1, node.name
            else:
                assert len(info.endpoints) > 1 and all(ep.locations for ep in info.endpoints), node.name
