#!/usr/bin/env python3
"""Summarizes a Java Flight Recorder file from `BENCH_PROFILE=... bench/spark/run.sh`: the methods
that Spark's task threads spend their samples in, self (top frame) and total (anywhere on the
stack), as shares of all samples of those threads.

    bench/spark/jfr_top.py ~/.cache/arrow-cache/bench/spark-profile.jfr [--top 30] [--threads 'Executor task']

Uses the JDK's `jfr` tool (jfr print --json); only the standard library.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys


def frame_name(frame: dict) -> str:
    method = frame["method"]
    return f'{method["type"]["name"]}.{method["name"]}'


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("jfr")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--threads", default="Executor task launch worker",
                    help="only samples of threads whose name contains this")
    args = ap.parse_args()
    jfr = shutil.which("jfr") or "/usr/lib/jvm/java-17-openjdk-amd64/bin/jfr"
    out = subprocess.run([jfr, "print", "--json", "--stack-depth", "256", "--events", "jdk.ExecutionSample", args.jfr],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(out)["recording"]["events"]
    self_count: collections.Counter[str] = collections.Counter()
    total_count: collections.Counter[str] = collections.Counter()
    samples = 0
    for e in events:
        thread = (e["values"].get("sampledThread") or {}).get("javaName") or ""
        if args.threads not in thread:
            continue
        frames = (e["values"].get("stackTrace") or {}).get("frames") or []
        if not frames:
            continue
        samples += 1
        self_count[frame_name(frames[0])] += 1
        for name in {frame_name(f) for f in frames}:
            total_count[name] += 1
    if not samples:
        sys.exit(f"no samples of threads matching `{args.threads}` in {args.jfr}")
    print(f"{samples} samples of threads matching `{args.threads}`\n")
    print("self %  method")
    for name, n in self_count.most_common(args.top):
        print(f"{100 * n / samples:6.1f}  {name}")
    print("\ntotal %  method")
    for name, n in total_count.most_common(args.top):
        print(f"{100 * n / samples:7.1f}  {name}")


if __name__ == "__main__":
    main()
