"""A real Hive metastore (HMS) for the tests: Apache Hive's standalone metastore server, run from
the jars hive_metastore.sh fetches from Maven Central, on an embedded Derby database with a
file:// warehouse, so pyiceberg (writing through the metastore's Thrift API) and the node (reading
the files the metadata names) share one disk.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import escape

from hive_metastore.ThriftHiveMetastore import Client
from pyiceberg.catalog.hive import HiveCatalog
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

from . import tables as T
from .node import free_port, stop_process, tail

INSTALL_SCRIPT = Path(__file__).with_name("hive_metastore.sh")
START_TIMEOUT_S = 120  # 4.5-7 s on a busy 2-core machine (half of it creating the schema)


def install() -> Path:
    """The installed server's directory; installs it on first use (a no-op afterwards)."""
    result = subprocess.run([str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"{INSTALL_SCRIPT.name} failed (exit {result.returncode}):\n"
                           f"{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


def _site_xml(properties: dict[str, str]) -> str:
    rows = "".join(f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>\n"
                   for k, v in properties.items())
    return f"<configuration>\n{rows}</configuration>\n"


# INFO from Hive (each Thrift call is one `audit` line), warnings from DataNucleus.
LOG4J2 = """\
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5p [%t] %c{1}: %m%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.datanucleus.name = DataNucleus
logger.datanucleus.level = WARN
"""


class HiveMetastore:
    """One metastore process with its Derby database and warehouse under `workdir`."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir).resolve()
        self.warehouse_dir = self.workdir / "warehouse"
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = self.workdir / "hms.log"
        self.proc: subprocess.Popen | None = None
        self.ready_after_s: float | None = None

    @property
    def uri(self) -> str:
        return f"thrift://127.0.0.1:{self.port}"

    @property
    def warehouse(self) -> str:
        return f"file://{self.warehouse_dir}"

    def start(self) -> "HiveMetastore":
        home = install()
        db = self.workdir / "metastore_db"
        if not db.exists():
            shutil.copytree(home / "derby-template", db)
        conf = self.workdir / "conf"
        conf.mkdir(exist_ok=True)
        (conf / "log4j2.properties").write_text(LOG4J2)
        (conf / "metastore-site.xml").write_text(_site_xml({
            "metastore.thrift.port": str(self.port),
            "metastore.warehouse.dir": self.warehouse,
            "javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={db}",
            "javax.jdo.option.ConnectionDriverName": "org.apache.derby.jdbc.EmbeddedDriver",
            # DataNucleus creates the metastore's tables at start; the transaction tables come
            # with the template (see hive_metastore.sh).
            "datanucleus.schema.autoCreateAll": "true",
            "metastore.schema.verification": "false",
            # Direct SQL's self-test runs before those tables exist, fails and logs a stack
            # trace; JDO then serves every call anyway.
            "metastore.try.direct.sql": "false",
            "datanucleus.autoStartMechanismMode": "ignored",  # its default warns on each call
            # Defaults that name classes of the full Hive (hive-exec), not in the standalone jar.
            "metastore.expression.proxy":
                "org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy",
            "metastore.task.threads.always":
                "org.apache.hadoop.hive.metastore.events.EventCleanerTask",
            # Iceberg's schema changes (drop, reorder) rewrite the Hive columns in ways Hive's
            # own ALTER TABLE forbids; Iceberg's documentation asks for this setting.
            "metastore.disallow.incompatible.col.type.changes": "false",
        }))
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                # C1 only and the serial collector: starts ~40% faster on a busy 2-core machine,
                # and the metastore's load here is light.
                [str(home / "java"), "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                 f"-Dlog4j.configurationFile={conf}/log4j2.properties",
                 "-cp", f"{conf}:{home}/lib/*", "org.apache.hadoop.hive.metastore.HiveMetaStore"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir)
        try:
            self._wait_ready(started)
        except Exception:
            self.stop()
            raise
        self.ready_after_s = time.monotonic() - started
        return self

    def _wait_ready(self, started: float) -> None:
        """Until a Thrift call answers (the port opens once the schema exists)."""
        last = "no answer"
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Hive metastore exited with code {self.proc.returncode} before "
                                   f"it answered{self.log_hint()}")
            try:
                # A plain connect first: Thrift's socket logs an error for each refused one.
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                self.call(lambda client: client.get_all_databases())
                return
            except (TTransport.TTransportException, OSError) as e:
                last = str(e)
            time.sleep(0.25)
        raise RuntimeError(f"Hive metastore not answering at {self.uri} after {START_TIMEOUT_S}s "
                           f"({last}){self.log_hint()}")

    def call(self, fn):
        """`fn(client)` on a fresh Thrift connection (binary protocol, buffered, as pyiceberg)."""
        sock = TSocket.TSocket("127.0.0.1", self.port)
        sock.setTimeout(30_000)  # ms; a hung server fails the test instead of blocking it
        transport = TTransport.TBufferedTransport(sock)
        transport.open()
        try:
            return fn(Client(TBinaryProtocol.TBinaryProtocol(transport)))
        finally:
            transport.close()

    def log_hint(self) -> str:
        return f"\n--- metastore log ({self.log_path}):\n{tail(self.log_path)}"

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


def hive_warehouse(hms: HiveMetastore) -> T.Warehouse:
    """pyiceberg's HiveCatalog on `hms`: every create and commit goes through the metastore
    (commits under its table lock); tables land in the databases' locations, which the metastore
    puts under its warehouse (as `file:/abs/path`, one slash)."""
    catalog = HiveCatalog(T.CATALOG_NAME, uri=hms.uri, warehouse=hms.warehouse)
    catalog.create_namespace_if_not_exists(T.NAMESPACE)
    return T.Warehouse(catalog, hms.uri, hms.warehouse, catalog_type="hive")
