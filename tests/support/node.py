"""Running arrow-cache processes: the `serve` node, its Flight client, actions and metrics."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight
import yaml

from .protocol import ScanRequest, TableAction

HEALTH_TIMEOUT_S = 60


def binary() -> str:
    """The arrow-cache binary under test. The test command sets ARROW_CACHE_BIN; a missing
    binary fails the tests that need it (never a silent skip)."""
    path = os.environ.get("ARROW_CACHE_BIN")
    if not path:
        raise RuntimeError(
            "ARROW_CACHE_BIN is not set: build the node (cargo build --release -p arrow-cache) "
            "and run the tests with ARROW_CACHE_BIN=target/release/arrow-cache")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"ARROW_CACHE_BIN={path} is not an executable file")
    return os.path.abspath(path)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate, then kill if it does not exit within 10 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    # Bind-then-close: another process could take the port in between, which is rare enough
    # on a test machine and is reported clearly when the node fails to start.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)")


def parse_prometheus(text: str) -> dict[str, float]:
    """Series (name plus labels, as written) -> value."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def wait_http_ok(url: str, proc: subprocess.Popen | None, timeout: float, what: str,
                 log_hint=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it was "
                               f"healthy{log_hint()}")
        try:
            status, _ = http_get(url, timeout=2)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    raise RuntimeError(f"{what} not healthy at {url} after {timeout:.0f}s ({last}){log_hint()}")


def tail(path: Path, limit: int = 6000) -> str:
    try:
        data = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return data[-limit:]


def base_config(storage: dict, ports: dict, memory: str = "1GB", **caching) -> dict:
    return {
        "cache_node": {
            "memory": {"total_memory": memory, "arrow_pool_percent": 80,
                       "index_pool_percent": 10, "system_overhead_percent": 10},
            "storage": storage,
            "caching": {"eviction_policy": "lru", "ttl_seconds": 600,
                        "max_partition_size": "1GB", **caching},
            "networking": ports,
        }
    }


def serve_expecting_failure(config_path: Path, what: str,
                            timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `arrow-cache serve` on a config it must refuse: it exits non-zero, without a panic,
    before `timeout`. `what` says in the failure what the config was."""
    try:
        result = subprocess.run([binary(), "serve", "--config", str(config_path)],
                                capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"node kept running with {what}") from None
    assert result.returncode > 0, f"exit {result.returncode}; stderr:\n{result.stderr}"
    assert "panicked" not in result.stderr, result.stderr
    return result


class Node:
    """One `arrow-cache serve` process with its own config, ports and log files in `workdir`."""

    def __init__(self, workdir: Path, config: dict | None = None, *, storage: dict | None = None,
                 memory: str = "1GB", caching: dict | None = None, name: str = "node",
                 host: str = "127.0.0.1"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.host = host
        self.flight_port, self.grpc_port, self.http_port = free_port(), free_port(), free_port()
        ports = {"flight_port": self.flight_port, "grpc_port": self.grpc_port,
                 "http_port": self.http_port, "bind_address": host}
        if config is None:
            config = base_config(storage or {}, ports, memory, **(caching or {}))
        else:
            config.setdefault("cache_node", {})["networking"] = ports
        self.config = config
        self.config_path = self.workdir / f"{name}.yaml"
        self.write_config()
        self.stdout_path = self.workdir / f"{name}.stdout.log"
        self.stderr_path = self.workdir / f"{name}.stderr.log"
        self.proc: subprocess.Popen | None = None
        self._client: flight.FlightClient | None = None

    def write_config(self) -> None:
        """Writes `self.config`; call after changing it and before `start`."""
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))

    def join(self, discovery: str, **cluster) -> "Node":
        """Makes this node a cluster member (`discovery_service` plus `cluster.*` settings)."""
        c = self.config["cache_node"]
        c["networking"]["discovery_service"] = discovery
        c["cluster"] = {"node_id": self.name, **cluster}
        self.write_config()
        return self

    @property
    def control_addr(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    # -- lifecycle

    def start(self, timeout: float = HEALTH_TIMEOUT_S) -> "Node":
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [binary(), "serve", "--config", str(self.config_path)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=self.workdir,
                env={**os.environ, "RUST_BACKTRACE": "1"})
        try:
            wait_http_ok(f"http://{self.host}:{self.http_port}/health", self.proc, timeout,
                         f"arrow-cache node {self.name!r}", self.log_hint)
        except Exception:
            self.stop()
            raise
        return self

    def log_hint(self) -> str:
        return (f"\n--- config {self.config_path}:\n{self.config_path.read_text()}"
                f"--- stderr ({self.stderr_path}):\n{tail(self.stderr_path)}"
                f"\n--- stdout:\n{tail(self.stdout_path, 2000)}")

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.proc is not None:
            stop_process(self.proc)

    def assert_alive(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, (
            f"node {self.name!r} died (exit {self.proc.returncode}){self.log_hint()}")

    def __enter__(self) -> "Node":
        """Starts the node unless it runs already (`with Node(...).start() as node` starts one)."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- Flight

    @property
    def flight_uri(self) -> str:
        return f"grpc://{self.host}:{self.flight_port}"

    @property
    def cluster_addr(self) -> str:
        return self.control_addr

    def flight_client(self) -> flight.FlightClient:
        """A shared client; use new_flight_client() from other threads."""
        if self._client is None:
            self._client = flight.FlightClient(self.flight_uri)
        return self._client

    def new_flight_client(self) -> flight.FlightClient:
        return flight.FlightClient(self.flight_uri)

    def do_action(self, name: str, body: TableAction | dict | None = None) -> dict:
        """A TableAction is checked before it is sent; a dict goes as it is (bodies the node must
        refuse)."""
        payload = (body.encode() if isinstance(body, TableAction)
                   else json.dumps(body or {}).encode())
        results = list(self.flight_client().do_action(flight.Action(name, payload)))
        if not results:
            return {}
        return json.loads(results[0].body.to_pybytes().decode() or "{}")

    def sql(self, query: str, client: flight.FlightClient | None = None) -> pa.Table:
        client = client or self.flight_client()
        return client.do_get(flight.Ticket(query.encode())).read_all()

    def scan(self, request: ScanRequest | dict, client: flight.FlightClient | None = None,
             ) -> tuple[flight.FlightInfo, pa.Table]:
        """GetFlightInfo for a scan request, then DoGet every endpoint; the union is the result.
        A ScanRequest is checked before it is sent; a dict goes as it is (requests the node must
        refuse)."""
        client = client or self.flight_client()
        command = (request.encode() if isinstance(request, ScanRequest)
                   else json.dumps(request).encode())
        info = client.get_flight_info(flight.FlightDescriptor.for_command(command))
        parts = [client.do_get(ep.ticket).read_all() for ep in info.endpoints]
        return info, concat(parts, info.schema)

    # -- HTTP

    def metrics(self) -> dict[str, float]:
        status, text = http_get(f"http://{self.host}:{self.http_port}/metrics")
        assert status == 200, f"/metrics answered HTTP {status}: {text[:500]}"
        return parse_prometheus(text)

    def metric(self, name: str) -> float:
        """An unlabelled series, or the sum over a labelled family."""
        m = self.metrics()
        if name in m:
            return m[name]
        labelled = [v for k, v in m.items() if k.startswith(name + "{")]
        assert labelled, f"metric {name} not exported; /metrics has: {sorted(m)[:60]}"
        return sum(labelled)


def concat(parts: list[pa.Table], schema: pa.Schema) -> pa.Table:
    if not parts:
        return schema.empty_table()
    schemas = []
    for p in parts:
        if not any(p.schema.equals(s) for s in schemas):
            schemas.append(p.schema)
    assert len(schemas) == 1, "endpoints returned different schemas:\n" + "\n---\n".join(
        str(s) for s in schemas)
    return pa.concat_tables([p.replace_schema_metadata(None) for p in parts])


def run_cli(args: list[str], timeout: float = 120, env: dict | None = None,
            ) -> subprocess.CompletedProcess:
    """Run `arrow-cache ARGS`, capturing text output."""
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


# pyarrow turns a gRPC status from a non-C++ server into an exception whose message starts
# with a fixed phrase (arrow/flight/transport.cc and transport/grpc/util_internal.cc); checked
# against a plain grpcio server returning each status code.
_STATUS_PHRASES = [
    ("Flight returned invalid argument error", "INVALID_ARGUMENT"),
    ("Flight returned not found error", "NOT_FOUND"),
    ("Flight returned unavailable error", "UNAVAILABLE"),
    ("Flight returned internal error", "INTERNAL"),
    ("Flight returned unauthenticated error", "UNAUTHENTICATED"),
    ("Flight returned unauthorized error", "PERMISSION_DENIED"),
    ("Flight returned unimplemented error", "UNIMPLEMENTED"),
    ("Flight returned timeout error", "DEADLINE_EXCEEDED"),
    ("Flight returned already exists error", "ALREADY_EXISTS"),
    ("Flight cancelled call", "CANCELLED"),
    ("gRPC returned resource exhausted error", "RESOURCE_EXHAUSTED"),
    ("gRPC returned precondition failed error", "FAILED_PRECONDITION"),
    ("gRPC returned aborted error", "ABORTED"),
    ("gRPC returned out-of-range error", "OUT_OF_RANGE"),
    ("gRPC returned data loss error", "DATA_LOSS"),
    ("Flight RPC failed with message", "UNKNOWN"),
]


def grpc_status(exc: BaseException) -> str:
    """The gRPC status name behind a pyarrow Flight exception, read from its text."""
    text = str(exc)
    for phrase, code in _STATUS_PHRASES:
        if phrase in text:
            return code
    return f"unrecognised ({type(exc).__name__}: {text[:200]})"


def server_message(exc: BaseException) -> str:
    """The server's own message, without pyarrow's prefix and the gRPC debug context."""
    text = str(exc)
    if "with message: " in text:
        text = text.split("with message: ", 1)[1]
    for tail_marker in (". gRPC client debug context:", ". Client context:", "\nClient context:"):
        text = text.split(tail_marker)[0]
    return text.strip()
