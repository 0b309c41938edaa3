"""Freshness benchmark (issue 6): what a new snapshot costs a cached table, and how soon a commit
is served. Not run by CI; results go to docs/BENCHMARKS.md, "Freshness (issue 6)".

    ARROW_CACHE_BIN=$CARGO_TARGET_DIR/release/arrow-cache .venv/bin/python bench/freshness.py \
        [--files 24] [--rows-per-file 250000] [--runs 5]

For each store (local files; S3 on a moto server) one table of `--files` appends is written with
pyiceberg; then, in one run:
- direct: pyiceberg reads the snapshot and pyarrow aggregates it (the baseline);
- cold: the first query through a fresh node; warm: the same query again;
- after append: one more file is committed, the node is told to `refresh`, and the query runs
  again: the cache loads only the new file (median of `--runs` rounds);
- commit to served: with `poll_interval_ms: 200` and no `refresh`, the time from a commit's
  return until a scan through the node reports the new snapshot (median and max of `--runs`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support import s3 as s3mod  # noqa: E402
from support import tables as T  # noqa: E402
from support.node import Node  # noqa: E402

QUERY = "SELECT count(*) AS n, sum(v) AS total, avg(q) AS mean_q FROM {table} WHERE k < 900"
SCHEMA = pa.schema([("id", pa.int64()), ("k", pa.int32()), ("q", pa.int32()), ("v", pa.float64()),
                    ("s", pa.large_string())])


def batch(first: int, rows: int) -> pa.Table:
    ids = pa.array(range(first, first + rows), pa.int64())
    k = pc.cast(pc.bit_wise_and(ids, 1023), pa.int32())
    return pa.table({"id": ids, "k": k, "q": pc.cast(pc.bit_wise_and(ids, 63), pa.int32()),
                     "v": pc.divide(pc.cast(ids, pa.float64()), 7.0),
                     "s": pa.array([f"row-{i % 997}" for i in range(first, first + rows)],
                                   pa.large_string())}, schema=SCHEMA)


def direct(wh: T.Warehouse, name: str) -> tuple[int, float]:
    """The baseline: pyiceberg's read of the current snapshot, aggregated by pyarrow."""
    from pyiceberg.expressions import LessThan

    data = wh.table(name).scan(row_filter=LessThan("k", 900), selected_fields=("v", "q")).to_arrow()
    return data.num_rows, pc.sum(data["v"]).as_py()


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_store(label: str, wh: T.Warehouse, work: Path, files: int, rows: int, runs: int) -> dict:
    name = f"{T.NAMESPACE}.fresh_bench"
    table = wh.catalog.create_table(name, schema=SCHEMA)
    for i in range(files):
        table.append(batch(i * rows, rows))
    next_first = files * rows
    query = QUERY.format(table=name)

    out: dict[str, object] = {"store": label}
    out["direct"] = statistics.median(timed(lambda: direct(wh, name))[0] for _ in range(3))

    node = Node(work / f"{label}-node", storage=wh.node_storage_config(), memory="8GB",
                caching={"ttl_seconds": 600}).start()
    try:
        out["cold"], first = timed(lambda: node.sql(query))
        want_n, want_total = direct(wh, name)
        assert first.column("n")[0].as_py() == want_n, (first, want_n)
        out["warm"] = statistics.median(timed(lambda: node.sql(query))[0] for _ in range(runs))

        after = []
        for _ in range(runs):
            wh.table(name).append(batch(next_first, rows))
            next_first += rows
            node.do_action("refresh", {"table": name})
            took, got = timed(lambda: node.sql(query))
            want_n, want_total = direct(wh, name)
            assert got.column("n")[0].as_py() == want_n, (got, want_n)
            assert abs(got.column("total")[0].as_py() - want_total) <= 1e-6 * abs(want_total)
            after.append(took)
        out["after_append"] = statistics.median(after)
    finally:
        node.stop()

    node = Node(work / f"{label}-poll", storage=wh.node_storage_config(), memory="8GB",
                caching={"ttl_seconds": 600, "poll_interval_ms": 200}).start()
    try:
        node.scan({"table": name, "columns": ["id"], "limit": 1})  # the node now polls the table
        lags = []
        for _ in range(runs):
            wh.table(name).append(batch(next_first, 1000))
            next_first += 1000
            committed = time.perf_counter()
            want = wh.table(name).current_snapshot().snapshot_id
            while True:
                info, _ = node.scan({"table": name, "columns": ["id"], "limit": 1})
                if json.loads(info.app_metadata)["snapshot_id"] == want:
                    break
            lags.append(time.perf_counter() - committed)
        out["lag_median"], out["lag_max"] = statistics.median(lags), max(lags)
    finally:
        node.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--rows-per-file", type=int, default=250_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("ARROW_CACHE_BIN"):
        sys.exit("set ARROW_CACHE_BIN to the release arrow-cache binary")

    results = []
    with tempfile.TemporaryDirectory(prefix="arrow-cache-fresh-bench-") as tmp:
        work = Path(tmp)
        results.append(run_store("local", T.local_warehouse(work / "local"), work,
                                 args.files, args.rows_per_file, args.runs))
        moto = s3mod.start_moto(work / "moto")
        try:
            moto.create_bucket("bench")
            wh = T.s3_warehouse(work / "s3", moto.endpoint, "bench", s3mod.ACCESS_KEY, s3mod.SECRET_KEY,
                                s3mod.REGION)
            results.append(run_store("moto S3", wh, work, args.files, args.rows_per_file, args.runs))
        finally:
            moto.stop()

    rows = args.files * args.rows_per_file
    print(f"\n{args.files} files x {args.rows_per_file:,} rows ({rows:,}); one more file per append; "
          f"`{QUERY.format(table='t')}`; medians of {args.runs}; load {os.getloadavg()[0]:.1f}\n")
    print("| store | direct (pyiceberg) | cold | warm | after an append | direct ÷ after append "
          "| cold ÷ after append | commit to served (poll 200 ms): median / max |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['store']} | {r['direct']*1000:.0f} ms | {r['cold']*1000:.0f} ms | "
              f"{r['warm']*1000:.0f} ms | {r['after_append']*1000:.0f} ms | "
              f"{r['direct']/r['after_append']:.1f}x | {r['cold']/r['after_append']:.1f}x | "
              f"{r['lag_median']*1000:.0f} / {r['lag_max']*1000:.0f} ms |")


if __name__ == "__main__":
    main()
