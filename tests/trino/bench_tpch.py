"""TPC-H Q1, Q6 and Q3 (a three-way join) in one Trino server, through Trino's Iceberg connector and
through arrow-cache (cold: right after the cache was emptied; warm: repeated), on the same files.
Not a test: it prints a markdown table for docs/BENCHMARKS.md.

    ARROW_CACHE_BIN=$HOME/.cache/arrow-cache/target/release/arrow-cache \\
        .venv/bin/python tests/trino/bench_tpch.py --sf 1 --runs 5 [--workdir /tmp/tpch-bench]

Trino's TPC-H connector generates the tables and Trino's Iceberg connector writes them (Parquet)
into the Iceberg REST catalog both catalogs read; the arrow-cache node gets most of the machine's
memory so that the warm runs read from its cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: `support`
sys.path.insert(0, str(Path(__file__).resolve().parent))

from trino_env import start_env  # noqa: E402

TABLES = ["lineitem", "orders", "customer"]

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


def timed(trino, sql: str) -> tuple[float, list]:
    start = time.perf_counter()
    rows = trino.rows(sql)
    return time.perf_counter() - start, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sf", default="1")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default="/tmp/arrow-cache-tpch-bench")
    ap.add_argument("--node-memory", default="8GB")
    ap.add_argument("--split-size", default=None, help="the node's caching.split_size (default: the node's, 64MB)")
    args = ap.parse_args()
    base = Path(args.workdir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    env = start_env(base, write_tables=lambda wh: None, node_memory=args.node_memory, trino_heap="6G",
                    extra_catalogs={"tpch": {"connector.name": "tpch", "tpch.column-naming": "STANDARD"}},
                    trino_config={"query.max-memory": "4GB", "query.max-memory-per-node": "3GB"},
                    node_caching={"split_size": args.split_size} if args.split_size else None)
    try:
        t = env.trino
        t.query("CREATE SCHEMA IF NOT EXISTS iceberg.tpch")
        for table in TABLES:
            start = time.perf_counter()
            t.query(f"CREATE TABLE iceberg.tpch.{table} WITH (format = 'PARQUET') AS SELECT * FROM tpch.sf{args.sf}.{table}")
            print(f"# wrote {table} in {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)

        results = {}
        for name, sql in QUERIES.items():
            iceberg = [timed(t, sql.format(c="iceberg")) for _ in range(args.runs)]
            for table in TABLES:
                env.node.do_action("invalidate", {"table": f"tpch.{table}"})
            cold = timed(t, sql.format(c="cache"))
            warm = [timed(t, sql.format(c="cache")) for _ in range(args.runs)]
            # Same groups (sums of doubles may differ in the last digits with the summation order).
            assert len(cold[1]) == len(iceberg[0][1]), (name, cold[1], iceberg[0][1])
            results[name] = (iceberg, cold, warm)
            print(f"# {name} done", file=sys.stderr, flush=True)

        print(f"TPC-H SF{args.sf}, Trino {t.rows('SELECT version()')[0][0]}, one node"
              f"{', split_size ' + args.split_size if args.split_size else ''}, {args.runs} runs (median):\n")
        print("| query | Iceberg connector (first / median) | arrow-cache cold | arrow-cache warm (median) | warm speed-up |")
        print("|---|---|---|---|---|")
        for name, (iceberg, cold, warm) in results.items():
            ice_med = statistics.median(s for s, _ in iceberg)
            warm_med = statistics.median(s for s, _ in warm)
            print(f"| {name} | {iceberg[0][0]:.2f} s / {ice_med:.2f} s | {cold[0]:.2f} s | {warm_med:.2f} s | {ice_med / warm_med:.1f}x |")
    finally:
        env.stop()


if __name__ == "__main__":
    main()
