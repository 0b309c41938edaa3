"""`arrow-cache demo`: one command gives a queryable demo.sales_data (~1e6 rows), and the
CONTRACT's pandas example works against it and agrees with pyiceberg's read of the demo's
warehouse (it is a real Iceberg table in a SQLite catalog)."""

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan

from support.compare import assert_same_rows
from support.node import binary, free_port, http_get, parse_prometheus, tail, wait_http_ok
from support.tables import oracle

DEMO_START_TIMEOUT_S = 240  # generating and writing ~1e6 rows on 2 cores


class Demo:
    def __init__(self, demo_dir, log_dir):
        self.flight_port, self.grpc_port, self.http_port = free_port(), free_port(), free_port()
        self.env = {**os.environ, "ARROW_CACHE_DEMO_DIR": str(demo_dir),
                    "ARROW_CACHE_FLIGHT_PORT": str(self.flight_port),
                    "ARROW_CACHE_GRPC_PORT": str(self.grpc_port),
                    "ARROW_CACHE_HTTP_PORT": str(self.http_port)}
        self.stdout = log_dir / f"demo-{self.flight_port}.stdout.log"
        self.stderr = log_dir / f"demo-{self.flight_port}.stderr.log"
        self.proc = None

    def __enter__(self):
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen([binary(), "demo"], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, env=self.env)
        try:
            wait_http_ok(f"http://127.0.0.1:{self.http_port}/health", self.proc,
                         DEMO_START_TIMEOUT_S, "arrow-cache demo",
                         lambda: f"\n--- stderr:\n{tail(self.stderr)}\n--- stdout:\n"
                                 f"{tail(self.stdout)}")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _contract_example(port):
    # The CONTRACT's pandas example, verbatim except for the port.
    import pyarrow.flight as flight
    client = flight.FlightClient(f"grpc://localhost:{port}")
    table = client.do_get(flight.Ticket(b"SELECT * FROM demo.sales_data WHERE date >= '2024-01-01'")).read_all()  # noqa: E501
    df = table.to_pandas()
    return client, table, df


def _count(client, where=""):
    import pyarrow.flight as flight
    t = client.do_get(flight.Ticket(
        f"SELECT count(*) AS n FROM demo.sales_data {where}".encode())).read_all()
    return t.column(0)[0].as_py()


def _demo_table(demo_dir: Path):
    """demo.sales_data as pyiceberg sees it, from whichever SQLite catalog in the demo dir has
    it (the file name and catalog name are the demo's business)."""
    for db in sorted(demo_dir.rglob("*.db")):
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
                rows = con.execute("SELECT catalog_name FROM iceberg_tables WHERE "
                                   "table_namespace = 'demo' AND table_name = 'sales_data'"
                                   ).fetchall()
        except sqlite3.Error:
            continue
        if rows:
            return SqlCatalog(rows[0][0], uri=f"sqlite:///{db}").load_table("demo.sales_data")
    pytest.fail(f"no SQLite catalog under {demo_dir} lists demo.sales_data", pytrace=False)


def _skip_counters(demo):
    status, text = http_get(f"http://127.0.0.1:{demo.http_port}/metrics")
    assert status == 200, text
    m = parse_prometheus(text)
    return (m["arrow_cache_rows_skipped_by_page_index_total"],
            m["arrow_cache_row_groups_skipped_by_page_index_total"])


def _check_page_index(client, demo, table):
    """The demo's files are written by iceberg-rust with a page index and sorted by date within
    each month, so a one-day filter rules out most pages of the row groups it reads. The
    results stay exact, and /metrics shows the pages were skipped."""
    import pyarrow.flight as flight
    before = _skip_counters(demo)
    for where, row_filter in [
        ("date = '2024-01-15'", EqualTo("date", "2024-01-15")),
        ("date >= '2023-09-10' AND date < '2023-09-12'",
         And(GreaterThanOrEqual("date", "2023-09-10"), LessThan("date", "2023-09-12"))),
    ]:
        got = client.do_get(flight.Ticket(
            f"SELECT * FROM demo.sales_data WHERE {where}".encode())).read_all()
        assert got.num_rows > 0, where
        assert_same_rows(got, oracle(table, row_filter=row_filter))
    after = _skip_counters(demo)
    assert after[0] > before[0], f"no rows skipped by the page index: {before} -> {after}"


@pytest.mark.timeout(600)
def test_demo(arrow_cache_bin, tmp_path):
    demo_dir = tmp_path / "demo"
    with Demo(demo_dir, tmp_path) as demo:
        client, result, df = _contract_example(demo.flight_port)
        assert len(df) > 0 and "date" in df.columns
        assert (pd.to_datetime(df["date"]) >= pd.Timestamp("2024-01-01")).all()
        total = _count(client)
        assert 900_000 <= total <= 1_100_000, total
        assert _count(client, "WHERE date >= '2024-01-01'") == len(df)
        assert total > len(df), "the demo data should also hold rows before 2024"
        assert "sales_data" in demo.stdout.read_text(errors="replace"), (
            "demo should print how to query demo.sales_data")

        table = _demo_table(demo_dir)
        assert total == oracle(table, ["order_id"]).num_rows
        expected = oracle(table, row_filter=GreaterThanOrEqual("date", "2024-01-01"))
        assert_same_rows(result, expected)
        _check_page_index(client, demo, table)

    # Running the demo again on the same directory reuses it and serves the same data.
    with Demo(demo_dir, tmp_path) as again:
        client, _, df2 = _contract_example(again.flight_port)
        assert len(df2) == len(df)
        assert _count(client) == total


def test_demo_command_builds_what_the_tests_build():
    """The README's demo command, ./demo.sh, builds exactly as the test command does, into the
    same target directory (one feature set), so neither rebuilds after the other; then it runs
    the binary this suite runs."""
    repo = Path(__file__).resolve().parent.parent
    demo, tests = (repo / "demo.sh").read_text(), (repo / "tests" / "run.sh").read_text()
    for line in ["export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}",
                 "cargo build --release --locked --workspace"]:
        assert line in demo and line in tests, line
    assert 'exec "$CARGO_TARGET_DIR/release/arrow-cache" demo "$@"' in demo
    assert os.access(repo / "demo.sh", os.X_OK), "demo.sh is not executable"
    assert "./demo.sh" in (repo / "README.md").read_text()
