"""The Trino test environment: one Iceberg REST catalog (Apache Iceberg's RESTCatalogServer) whose
tables pyiceberg writes, two arrow-cache nodes reading that catalog, and one real Trino server with
three catalogs on the same tables and files:

    iceberg  Trino's own Iceberg connector (iceberg.catalog.type=rest), the oracle
    cache    the arrow-cache connector, first node
    cache2   the arrow-cache connector again (a second catalog of the same plugin), second node

Tables: test.all_types, test.part_identity, test.part_day, test.evolution (support/tables.py) and
test.nested (nested.py).

Run it by hand (it stays up until Ctrl-C and prints where everything is):
    ARROW_CACHE_BIN=$HOME/.cache/arrow-cache/target/release/arrow-cache \
        .venv/bin/python tests/trino/trino_env.py /tmp/trino-env
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: `support`

from support import tables as T  # noqa: E402
from support.node import Node  # noqa: E402
from support.rest_catalog import RestCatalogServer  # noqa: E402

from nested import write_nested  # noqa: E402
from trino_server import TrinoServer  # noqa: E402


def iceberg_catalog(rest_uri: str) -> dict[str, str]:
    return {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": rest_uri,
        # The warehouse is file:// (local disk): Trino's local file system, rooted at /.
        "fs.local.enabled": "true",
        "local.location": "/",
    }


def cache_catalog(node: Node, **extra: str) -> dict[str, str]:
    return {"connector.name": "arrow-cache", "arrow-cache.cluster": node.control_addr, **extra}


class Env:
    def __init__(self):
        self.started = []
        self.rest = self.wh = self.node = self.node2 = self.trino = self.evolution = None

    def stop(self) -> None:
        for s in reversed(self.started):
            s.stop()
        self.started = []


def start_env(base: Path, write_tables=None, *, node_memory: str = "1GB", trino_heap: str = "3G",
              extra_catalogs: dict[str, dict[str, str]] | None = None,
              trino_config: dict[str, str] | None = None, node_caching: dict | None = None) -> Env:
    """Starts everything under `base`; `write_tables(wh)` adds tables (default: the suite's)."""
    env = Env()
    try:
        env.rest = RestCatalogServer(base / "rest").start()
        env.started.append(env.rest)
        env.wh = T.rest_warehouse(env.rest.uri, env.rest.warehouse)
        env.node = Node(base / "node1", storage=env.wh.node_storage_config(), name="trino-node1",
                        memory=node_memory, caching=node_caching).start()
        env.started.append(env.node)
        env.node2 = Node(base / "node2", storage=env.wh.node_storage_config(), name="trino-node2").start()
        env.started.append(env.node2)
        env.trino = TrinoServer(base / "server", {
            "iceberg": iceberg_catalog(env.rest.uri),
            "cache": cache_catalog(env.node),
            "cache2": cache_catalog(env.node2),
            **(extra_catalogs or {}),
        }, heap=trino_heap, extra_config=trino_config)
        # Trino takes a while to start: write the tables meanwhile (the catalogs find tables lazily).
        failure: list[BaseException] = []

        def start_trino():
            try:
                env.trino.start()
            except BaseException as e:  # reported below
                failure.append(e)

        starter = threading.Thread(target=start_trino, daemon=True)
        starter.start()
        env.started.append(env.trino)
        if write_tables is None:
            T.write_all_types(env.wh)
            T.write_part_identity(env.wh)
            T.write_part_day(env.wh)
            _, env.evolution = T.write_evolution(env.wh)
            write_nested(env.wh)
        else:
            write_tables(env.wh)
        starter.join()
        if failure:
            raise failure[0]
    except BaseException:
        env.stop()
        raise
    return env


if __name__ == "__main__":
    import signal
    import time

    def _stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)  # background jobs ignore SIGINT: TERM stops it cleanly too
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/arrow-cache-trino-env").resolve()
    base.mkdir(parents=True, exist_ok=True)
    env = start_env(base)
    print(f"REST catalog  {env.rest.uri}")
    print(f"node 1        {env.node.control_addr} (flight {env.node.flight_uri})")
    print(f"node 2        {env.node2.control_addr}")
    print(f"Trino         {env.trino.uri} (log {env.trino.log_path})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        env.stop()
