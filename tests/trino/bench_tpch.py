"""TPC-H Q1, Q6 and Q3 (a three-way join) in one Trino server, through Trino's Iceberg connector
and through arrow-cache (cold: right after the cache was emptied; warm: repeated), on the same
files, for a local (file://) warehouse and a moto S3 warehouse, in one run. Not a test: it prints
a markdown section for docs/BENCHMARKS.md (and writes it to --out).

    ARROW_CACHE_BIN=$HOME/.cache/arrow-cache/target/release/arrow-cache \\
        .venv/bin/python tests/trino/bench_tpch.py --sf 1 --runs 5 [--workdir /tmp/tpch-bench]

Setup, all real processes: two Iceberg REST catalog servers (Apache Iceberg's RESTCatalogServer;
the S3 one with Iceberg's S3FileIO, iceberg-aws and iceberg-aws-bundle from Maven Central), a moto
S3 server, one arrow-cache node per warehouse, and Trino with catalogs

    iceberg, iceberg_s3     Trino's Iceberg connector on the local / S3 REST catalog (the baseline)
    cache, cache_s3         arrow-cache on the node of the local / S3 warehouse
    tpch                    Trino's TPC-H connector, which generates the tables

Trino's Iceberg connector writes the tables (Parquet, CREATE TABLE AS from tpch.sf<N>) into both
warehouses, so both catalogs of a pair read the same files. Each query runs --runs times through
the Iceberg catalog (the first run is reported apart: it includes Trino's metadata and JIT warm-up),
then once through arrow-cache after `invalidate` (cold: the node loads from the files) and --runs
times more (warm: from the node's memory). Results are checked against the Iceberg catalog's.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: `support`
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import s3 as s3mod  # noqa: E402
from support.node import Node, wait_http_ok  # noqa: E402
from support.rest_catalog import RestCatalogServer, java, server_jars  # noqa: E402

from trino_server import TrinoServer  # noqa: E402

TABLES = ["lineitem", "orders", "customer"]
BUCKET = "tpch"
ICEBERG_VERSION = "1.10.0"  # the RESTCatalogServer's (tests/support/rest_catalog.sh)

QUERIES = {
    "Q1": """
SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
       avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
FROM {c}.tpch.lineitem
WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY
GROUP BY l_returnflag, l_linestatus
ORDER BY l_returnflag, l_linestatus""",
    "Q6": """
SELECT sum(l_extendedprice * l_discount) AS revenue
FROM {c}.tpch.lineitem
WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    "Q3": """
SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate, o_shippriority
FROM {c}.tpch.customer, {c}.tpch.orders, {c}.tpch.lineitem
WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
  AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
GROUP BY l_orderkey, o_orderdate, o_shippriority
ORDER BY revenue DESC, o_orderdate
LIMIT 10""",
}


# ------------------------------------------------------------------------------------------------
# The S3 side: a REST catalog whose FileIO is Iceberg's S3FileIO, on moto


# S3FileIO (iceberg-aws), the AWS SDK (iceberg-aws-bundle) and what iceberg-aws needs at run time
# that the server's class path lacks.
AWS_ARTIFACTS = [f"org.apache.iceberg:iceberg-aws:{ICEBERG_VERSION}", f"org.apache.iceberg:iceberg-aws-bundle:{ICEBERG_VERSION}",
                 "dev.failsafe:failsafe:3.3.2"]


def aws_jars() -> list[Path]:
    """The jars of AWS_ARTIFACTS, fetched once with Maven."""
    out = Path(os.environ.get("ARROW_CACHE_BENCH_DIR", Path.home() / ".cache/arrow-cache/bench")) / "rest-catalog-s3"
    jars = []
    for artifact in AWS_ARTIFACTS:
        _, name, version = artifact.split(":")
        jar = out / f"{name}-{version}.jar"
        if not jar.exists():
            subprocess.run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={out}"],
                           check=True, stdin=subprocess.DEVNULL)
        jars.append(jar)
    return jars


class S3RestCatalogServer(RestCatalogServer):
    """RESTCatalogServer whose JdbcCatalog keeps metadata and data under s3://BUCKET/wh on moto."""

    def __init__(self, workdir: Path, s3: s3mod.S3Server):
        super().__init__(workdir)
        self.s3 = s3

    @property
    def warehouse(self) -> str:
        return f"s3://{BUCKET}/wh"

    def start(self) -> "S3RestCatalogServer":
        classpath = ":".join([f"{server_jars()}/*", *map(str, aws_jars())])
        # CATALOG_* variables are the backend catalog's properties (`__` -> `-`, `_` -> `.`).
        env = {
            **os.environ,
            "CATALOG_CATALOG__IMPL": "org.apache.iceberg.jdbc.JdbcCatalog",
            "CATALOG_URI": f"jdbc:sqlite:{self.workdir / 'catalog.db'}",
            "CATALOG_WAREHOUSE": self.warehouse,
            "CATALOG_REST_PORT": str(self.port),
            "CATALOG_IO__IMPL": "org.apache.iceberg.aws.s3.S3FileIO",
            "CATALOG_S3_ENDPOINT": self.s3.endpoint,
            "CATALOG_S3_PATH__STYLE__ACCESS": "true",
            "CATALOG_S3_ACCESS__KEY__ID": s3mod.ACCESS_KEY,
            "CATALOG_S3_SECRET__ACCESS__KEY": s3mod.SECRET_KEY,
            "CATALOG_CLIENT_REGION": s3mod.REGION,
            "AWS_REGION": s3mod.REGION,
        }
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [java(), "-Xmx1g", "-cp", classpath, "org.apache.iceberg.rest.RESTCatalogServer"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir, env=env)
        try:
            wait_http_ok(f"{self.uri}/v1/config", self.proc, 60, "Iceberg REST catalog server (S3)", self.log_hint)
        except Exception:
            self.stop()
            raise
        return self


def s3_object_store(s3: s3mod.S3Server) -> dict:
    return {"type": "s3", "endpoint": s3.endpoint, "region": s3mod.REGION, "access_key_id": s3mod.ACCESS_KEY,
            "secret_access_key": s3mod.SECRET_KEY, "path_style": True, "allow_http": True}


def iceberg_catalog(rest: RestCatalogServer, s3: s3mod.S3Server | None = None) -> dict[str, str]:
    props = {"connector.name": "iceberg", "iceberg.catalog.type": "rest", "iceberg.rest-catalog.uri": rest.uri}
    if s3 is None:
        props.update({"fs.local.enabled": "true", "local.location": "/"})
    else:
        props.update({"fs.native-s3.enabled": "true", "s3.endpoint": s3.endpoint, "s3.region": s3mod.REGION,
                      "s3.path-style-access": "true", "s3.aws-access-key": s3mod.ACCESS_KEY,
                      "s3.aws-secret-key": s3mod.SECRET_KEY})
    return props


# ------------------------------------------------------------------------------------------------
# Running and checking


def timed(trino: TrinoServer, sql: str) -> tuple[float, list]:
    start = time.perf_counter()
    rows = trino.rows(sql)
    return time.perf_counter() - start, rows


def same_rows(a: list, b: list) -> bool:
    """Equal, but doubles only to 1e-9 relative (sums of doubles depend on the summation order)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def run_setup(trino: TrinoServer, node: Node, iceberg: str, cache: str, runs: int) -> dict:
    results = {}
    for name, sql in QUERIES.items():
        ice = [timed(trino, sql.format(c=iceberg)) for _ in range(runs)]
        for table in TABLES:
            node.do_action("invalidate", {"table": f"tpch.{table}"})
        cold = timed(trino, sql.format(c=cache))
        warm = [timed(trino, sql.format(c=cache)) for _ in range(runs)]
        for label, (_, rows) in [("cold", cold), *(("warm", w) for w in warm)]:
            if not same_rows(rows, ice[0][1]):
                raise AssertionError(f"{name} through {cache} ({label}) differs from {iceberg}:\n{rows[:5]}\n{ice[0][1][:5]}")
        results[name] = (ice, cold, warm)
        print(f"# {cache} {name}: iceberg {statistics.median(s for s, _ in ice):.2f}s, cold {cold[0]:.2f}s, "
              f"warm {statistics.median(s for s, _ in warm):.2f}s", file=sys.stderr, flush=True)
    return results


def table_rows(results: dict) -> list[str]:
    out = []
    for name, (ice, cold, warm) in results.items():
        ice_med = statistics.median(s for s, _ in ice[1:] or ice)
        warm_med = statistics.median(s for s, _ in warm)
        out.append(f"| {name} | {ice[0][0]:.2f} s | {ice_med:.2f} s | {cold[0]:.2f} s | {warm_med:.2f} s "
                   f"| **{ice_med / warm_med:.1f}x** | {ice_med / cold[0]:.1f}x |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sf", default="1", help="scale factor (or `tiny`, SF 0.01, to try the setup)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default="/tmp/arrow-cache-trino-tpch-bench")
    ap.add_argument("--node-memory", default="5GB", help="each of the two nodes")
    ap.add_argument("--trino-heap", default="6G")
    ap.add_argument("--out", default=None, help="also write the markdown here")
    args = ap.parse_args()
    base = Path(args.workdir).resolve()
    base.mkdir(parents=True, exist_ok=True)

    started = []
    try:
        s3 = s3mod.start_moto(base / "moto")
        started.append(s3)
        s3.create_bucket(BUCKET)
        rest = RestCatalogServer(base / "rest").start()
        started.append(rest)
        rest_s3 = S3RestCatalogServer(base / "rest-s3", s3).start()
        started.append(rest_s3)

        def node(name: str, rest_server: RestCatalogServer, object_store: dict | None) -> Node:
            storage = {"iceberg": {"catalog_type": "rest", "catalog_uri": rest_server.uri, "catalog_name": "default",
                                   "warehouse": rest_server.warehouse}}
            if object_store:
                storage["object_store"] = object_store
            n = Node(base / name, storage=storage, name=name, memory=args.node_memory).start()
            started.append(n)
            return n

        node_local = node("node-local", rest, None)
        node_s3 = node("node-s3", rest_s3, s3_object_store(s3))
        trino = TrinoServer(base / "trino", {
            "iceberg": iceberg_catalog(rest),
            "iceberg_s3": iceberg_catalog(rest_s3, s3),
            "cache": {"connector.name": "arrow-cache", "arrow-cache.cluster": node_local.control_addr},
            "cache_s3": {"connector.name": "arrow-cache", "arrow-cache.cluster": node_s3.control_addr},
            "tpch": {"connector.name": "tpch", "tpch.column-naming": "STANDARD"},
        }, heap=args.trino_heap, extra_config={"query.max-memory": "4GB", "query.max-memory-per-node": "3GB"})
        started.append(trino)
        trino.start()

        for catalog in ("iceberg", "iceberg_s3"):
            trino.query(f"CREATE SCHEMA IF NOT EXISTS {catalog}.tpch")
            for table in TABLES:
                start = time.perf_counter()
                trino.query(f"CREATE TABLE {catalog}.tpch.{table} WITH (format = 'PARQUET') "
                            f"AS SELECT * FROM tpch.{'tiny' if args.sf == 'tiny' else 'sf' + args.sf}.{table}")
                print(f"# wrote {catalog}.tpch.{table} in {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)

        load_before = os.getloadavg()[1]
        local = run_setup(trino, node_local, "iceberg", "cache", args.runs)
        remote = run_setup(trino, node_s3, "iceberg_s3", "cache_s3", args.runs)
        load_after = os.getloadavg()[1]
        version = trino.rows("SELECT version()")[0][0]
        files = trino.rows("SELECT count(*), sum(file_size_in_bytes) FROM iceberg.tpch.\"lineitem$files\"")[0]
    finally:
        for s in reversed(started):
            s.stop()

    header = ["| query | Iceberg connector, first run | Iceberg connector, median | arrow-cache cold | "
              "arrow-cache warm, median | warm speed-up | cold speed-up |",
              "|---|---|---|---|---|---|---|"]
    lines = [
        f"TPC-H {'SF' + args.sf if args.sf != 'tiny' else 'tiny (SF 0.01)'} (lineitem {int(files[0])} Parquet files, {int(files[1]) / 2**20:.0f} MiB; orders, customer), "
        f"Trino {version}, one Trino process (coordinator and worker), one arrow-cache node per warehouse "
        f"({args.node_memory}), {os.cpu_count()} cores, {platform.machine()}; medians of {args.runs} runs "
        f"(Iceberg: runs 2-{args.runs}); speed-ups are Iceberg median / arrow-cache. "
        f"Results checked equal to the Iceberg connector's (doubles to 1e-9). "
        f"Machine load (5-minute load average) {load_before:.1f} before the queries, {load_after:.1f} after.",
        "",
        "Local files (`file://` warehouse):",
        "",
        *header, *table_rows(local),
        "",
        "moto S3 (`s3://` warehouse on a local moto server):",
        "",
        *header, *table_rows(remote),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
