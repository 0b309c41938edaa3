"""A real Iceberg REST catalog server for the tests: Apache Iceberg's reference implementation
(org.apache.iceberg.rest.RESTCatalogServer, the server in the apache/iceberg-rest-fixture image),
run from jars that rest_catalog.sh fetches from Maven Central.

Its backend is a JdbcCatalog on a SQLite file with a file:// warehouse, so pyiceberg (writing
through the REST API) and the node (reading the files the metadata names) share one disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .node import free_port, stop_process, tail, wait_http_ok

FETCH_SCRIPT = Path(__file__).with_name("rest_catalog.sh")
START_TIMEOUT_S = 60  # a JVM with Hadoop on the class path takes a few seconds


def server_jars() -> Path:
    """The directory of the server's jars; fetches them on first use (a no-op afterwards)."""
    result = subprocess.run([str(FETCH_SCRIPT)], capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{FETCH_SCRIPT.name} failed (exit {result.returncode}):\n"
                           f"{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(f"{home}/bin/java", os.X_OK):
        return f"{home}/bin/java"
    found = shutil.which("java")
    if not found:
        raise RuntimeError("no `java` on PATH: run tests/setup_env.sh (it installs one)")
    return found


class RestCatalogServer:
    """One RESTCatalogServer process with its catalog database and warehouse under `workdir`."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir).resolve()
        self.warehouse_dir = self.workdir / "warehouse"
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = self.workdir / "rest-catalog.log"
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def warehouse(self) -> str:
        return f"file://{self.warehouse_dir}"

    def start(self) -> "RestCatalogServer":
        jars = server_jars()
        # The server reads its backend catalog's properties from CATALOG_* variables
        # (RCKUtils.environmentCatalogConfig: `__` -> `-`, `_` -> `.`), so CATALOG_REST_PORT is
        # the `rest.port` property. A SQLite file rather than the default in-memory database,
        # so that the catalog of a failed run can be inspected under tests/.work.
        env = {
            **os.environ,
            "CATALOG_CATALOG__IMPL": "org.apache.iceberg.jdbc.JdbcCatalog",
            "CATALOG_URI": f"jdbc:sqlite:{self.workdir / 'catalog.db'}",
            "CATALOG_WAREHOUSE": self.warehouse,
            "CATALOG_REST_PORT": str(self.port),
        }
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [java(), "-Xmx512m", "-cp", f"{jars}/*", "org.apache.iceberg.rest.RESTCatalogServer"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir,
                env=env)
        try:
            wait_http_ok(f"{self.uri}/v1/config", self.proc, START_TIMEOUT_S,
                         "Iceberg REST catalog server", self.log_hint)
        except Exception:
            self.stop()
            raise
        return self

    def log_hint(self) -> str:
        return f"\n--- server log ({self.log_path}):\n{tail(self.log_path)}"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
