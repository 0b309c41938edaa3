"""A real Trino server for the tests: the release in jvm-connector/trino/trino.properties, assembled
from Maven Central by fetch_trino.sh, run on Java 25 with the arrow-cache plugin (built by Gradle)
and Trino's own Iceberg connector; and a small client for Trino's HTTP protocol.

The client speaks the protocol directly (POST /v1/statement, then follow nextUri), so the tests
need no Trino client package; every value arrives as Trino's JSON encoding of it, which is the same
for both catalogs under comparison.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FETCH_SCRIPT = HERE / "fetch_trino.sh"
TRINO_PROPERTIES = REPO / "jvm-connector" / "trino" / "trino.properties"
DEFAULT_PLUGIN_DIR = REPO / "jvm-connector" / "trino" / "build" / "trino-plugin" / "arrow-cache"
START_TIMEOUT_S = 240  # a cold start on two shared cores loads ~500 jars


def trino_properties() -> dict[str, str]:
    out = {}
    for line in TRINO_PROPERTIES.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def trino_home() -> Path:
    """The assembled server; fetches it on first use (a no-op afterwards)."""
    result = subprocess.run([str(FETCH_SCRIPT)], capture_output=True, text=True, timeout=3600,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{FETCH_SCRIPT.name} failed (exit {result.returncode}):\n"
                           f"{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def java_home() -> Path:
    """A JDK of the release Trino needs: $TRINO_JAVA_HOME, $JAVA_HOME or one in /usr/lib/jvm."""
    release = trino_properties()["trino.java.release"]
    candidates = [os.environ.get("TRINO_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += [str(p) for p in sorted(jvm.iterdir())]
    for c in candidates:
        if not c:
            continue
        rel = Path(c) / "release"
        if (Path(c) / "bin" / "java").exists() and rel.is_file():
            for line in rel.read_text().splitlines():
                if line.startswith("JAVA_VERSION="):
                    v = line.split("=", 1)[1].strip('"')
                    if v == release or v.startswith(release + "."):
                        return Path(c)
    raise RuntimeError(f"no JDK {release} found (Trino {trino_properties()['trino.version']} needs "
                       f"Java {release}): install one and set TRINO_JAVA_HOME")


def plugin_dir() -> Path:
    """The arrow-cache plugin directory Gradle's installPlugin task lays out."""
    path = Path(os.environ.get("ARROW_CACHE_TRINO_PLUGIN_DIR", DEFAULT_PLUGIN_DIR))
    if not any(path.glob("arrow-cache-trino-*.jar")):
        raise RuntimeError(
            f"no arrow-cache Trino plugin in {path}: build it with "
            "`gradle -p jvm-connector :trino:installPlugin` (or set ARROW_CACHE_TRINO_PLUGIN_DIR)")
    return path


# JVM flags: Trino 479+ needs the incubating Vector API; Arrow Java (the plugin's memory) reads
# direct buffer addresses (java.nio) and uses sun.misc.Unsafe; the bridge is a JNI library.
JVM_FLAGS = [
    "-XX:+UseG1GC", "-XX:G1HeapRegionSize=32M", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
    "-XX:ReservedCodeCacheSize=256M", "-Djdk.attach.allowAttachSelf=true",
    "-Djdk.nio.maxCachedBufferSize=2000000", "-XX:+EnableDynamicAgentLoading",
    "--add-modules=jdk.incubator.vector",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
    "--enable-native-access=ALL-UNNAMED",
]


class TrinoError(Exception):
    def __init__(self, error: dict):
        self.error = error
        self.message = error.get("message", "")
        self.error_name = error.get("errorName", "")
        self.error_type = error.get("errorType", "")
        super().__init__(f"{self.error_name}: {self.message}")


@dataclass
class Result:
    columns: list[dict]  # {"name", "type", "typeSignature"}
    rows: list[list]

    @property
    def names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def types(self) -> list[str]:
        return [c["type"] for c in self.columns]


class TrinoServer:
    """One coordinator-and-worker process; catalogs are {name: {property: value}}."""

    def __init__(self, workdir: Path, catalogs: dict[str, dict[str, str]], *,
                 heap: str = "3G", dynamic_catalogs: bool = True,
                 extra_config: dict[str, str] | None = None):
        from support.node import free_port  # tests/support, on sys.path via tests/conftest.py
        self.workdir = Path(workdir).resolve()
        self.home = trino_home()
        self.java = java_home() / "bin" / "java"
        self.port = free_port()
        self.catalogs = catalogs
        self.heap = heap
        self.dynamic_catalogs = dynamic_catalogs
        self.extra_config = extra_config or {}
        self.log_path = self.workdir / "trino.log"
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_etc(self) -> Path:
        etc = self.workdir / "etc"
        (etc / "catalog").mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        config = {
            "coordinator": "true",
            "node-scheduler.include-coordinator": "true",
            "http-server.http.port": str(self.port),
            "discovery.uri": self.uri,
            "query.max-memory": "2GB",
            "query.max-memory-per-node": "1GB",
            **({"catalog.management": "dynamic"} if self.dynamic_catalogs else {}),
            **self.extra_config,
        }
        (etc / "config.properties").write_text("".join(f"{k}={v}\n" for k, v in config.items()))
        (etc / "log.properties").write_text("io.trino=INFO\n")
        for name, props in self.catalogs.items():
            (etc / "catalog" / f"{name}.properties").write_text(
                "".join(f"{k}={v}\n" for k, v in props.items()))
        # The server reads plugins from ./plugin: Trino's (in the assembled home) and ours.
        plugin = self.workdir / "plugin"
        if plugin.is_symlink() or plugin.exists():
            _rm(plugin)
        plugin.mkdir()
        for p in (self.home / "plugin").iterdir():
            (plugin / p.name).symlink_to(p)
        (plugin / "arrow-cache").symlink_to(plugin_dir())
        return etc

    def start(self, timeout: float = START_TIMEOUT_S) -> "TrinoServer":
        self._write_etc()
        cmd = [str(self.java), f"-Xmx{self.heap}", *JVM_FLAGS,
               "-Dconfig=etc/config.properties", "-Dlog.levels-file=etc/log.properties",
               "-Dnode.environment=test", "-Dnode.id=arrow-cache-test",
               f"-Dnode.data-dir={self.workdir / 'data'}",
               f"-Dcatalog.config-dir={self.workdir / 'etc' / 'catalog'}",
               f"-Djava.io.tmpdir={self.workdir / 'data'}",
               "-cp", f"{self.home / 'lib'}/*", "TrinoLauncher"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Trino exited with code {self.proc.returncode} while starting"
                                   f"{self.log_hint()}")
            if "======== SERVER STARTED ========" in self.log_text():
                if self._ready():
                    return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Trino did not start within {timeout:.0f}s{self.log_hint()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.uri}/v1/info", timeout=5) as r:
                return not json.load(r).get("starting", True)
        except (OSError, ValueError):
            return False

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_hint(self) -> str:
        return f"\n--- Trino log ({self.log_path}):\n{self.log_text()[-8000:]}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- the client

    def query(self, sql: str, *, session: dict[str, str] | None = None,
              timeout: float = 600) -> Result:
        """Runs `sql` to completion; TrinoError when the query fails."""
        # PARAMETRIC_DATETIME: times and timestamps at their full precision (the default rounds
        # them to milliseconds in the protocol).
        headers = {"X-Trino-User": "test", "Content-Type": "text/plain",
                   "X-Trino-Client-Capabilities": "PARAMETRIC_DATETIME"}
        if session:
            headers["X-Trino-Session"] = ",".join(f"{k}={v}" for k, v in session.items())
        req = urllib.request.Request(f"{self.uri}/v1/statement", data=sql.encode(),
                                     headers=headers, method="POST")
        deadline = time.monotonic() + timeout
        columns, rows = None, []
        doc = _fetch(req)
        while True:
            if "error" in doc:
                raise TrinoError(doc["error"])
            if doc.get("columns") and columns is None:
                columns = doc["columns"]
            rows.extend(doc.get("data") or [])
            nxt = doc.get("nextUri")
            if not nxt:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"query still running after {timeout}s: {sql[:200]}")
            doc = _fetch(urllib.request.Request(nxt, headers={"X-Trino-User": "test"}))
        return Result(columns or [], rows)

    def rows(self, sql: str, **kw) -> list[list]:
        return self.query(sql, **kw).rows

    def explain(self, sql: str, kind: str = "") -> str:
        """The text plan (EXPLAIN), or `kind` ANALYZE / (TYPE IO, FORMAT JSON) etc."""
        rows = self.rows(f"EXPLAIN {kind} {sql}")
        return "\n".join(r[0] for r in rows)


def _fetch(req: urllib.request.Request) -> dict:
    for attempt in range(20):
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code in (502, 503) and attempt < 19:  # the protocol says: retry
                time.sleep(0.05 * (attempt + 1))
                continue
            raise RuntimeError(f"Trino answered HTTP {e.code}: {e.read()[:2000]!r}") from e
    raise AssertionError("unreachable")


def _rm(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    for p in path.iterdir():
        _rm(p)
    path.rmdir()
