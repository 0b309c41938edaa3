"""The `arrow-cache` CLI against a running node: query output formats, stats, invalidate,
warm, and one-line errors with a non-zero exit."""

import csv
import io
import json
import re

import pytest
from pyiceberg.expressions import And, LessThan, NotNull

from support import tables as T
from support.node import free_port, run_cli

QUERY = ("SELECT id, region, qty FROM test.part_identity "
         "WHERE region IS NOT NULL AND qty IS NOT NULL AND id < 200 ORDER BY id")


@pytest.fixture(scope="module")
def expected_rows(local_wh):
    t = T.oracle(local_wh.table(T.PART_IDENTITY), ["id", "region", "qty"],
                 And(And(NotNull("region"), NotNull("qty")), LessThan("id", 200)))
    rows = sorted(t.to_pylist(), key=lambda r: r["id"])
    assert rows
    return rows


def _ok(result):
    assert result.returncode == 0, (f"exit {result.returncode}\nstdout: {result.stdout[-2000:]}"
                                    f"\nstderr: {result.stderr[-2000:]}")
    return result.stdout


def _one_line_error(result, *mentions):
    assert result.returncode != 0, f"expected failure, got exit 0: {result.stdout[-1000:]}"
    assert "panicked" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line on stderr, got:\n{result.stderr}"
    for m in mentions:
        assert m.lower() in lines[0].lower(), f"error does not mention {m!r}: {lines[0]}"
    return lines[0]


def _query(node, sql, fmt):
    return run_cli(["query", "--cluster", node.cluster_addr, sql, "--format", fmt])


def test_query_csv(local_node, expected_rows):
    out = _ok(_query(local_node, QUERY, "csv"))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "region", "qty"]
    assert rows[1:] == [[str(r["id"]), r["region"], str(r["qty"])] for r in expected_rows]


def test_query_json(local_node, expected_rows):
    out = _ok(_query(local_node, QUERY, "json"))
    # Either one JSON array or one object per line (NDJSON); both are reasonable.
    try:
        rows = json.loads(out)
        rows = rows if isinstance(rows, list) else [rows]
    except json.JSONDecodeError:
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert rows == expected_rows


def test_query_table(local_node, expected_rows):
    out = _ok(_query(local_node, QUERY, "table"))
    # Any boxed or aligned layout: split each line into cells on spaces and box characters.
    rows = [[c for c in re.split(r"[\s|│┃+]+", line) if c] for line in out.splitlines()]
    header = next(cells for cells in rows if "region" in cells)
    assert header == ["id", "region", "qty"], header
    shown = [cells for cells in rows if cells and cells[0].lstrip("-").isdigit()]
    assert shown == [[str(r["id"]), r["region"], str(r["qty"])] for r in expected_rows], out


def test_stats(local_node):
    local_node.scan({"table": T.PART_BUCKET})
    out = _ok(run_cli(["stats", T.PART_BUCKET, "--cluster", local_node.cluster_addr]))
    for word in ("hit", "miss"):
        assert word in out.lower(), f"stats output lacks {word!r}:\n{out}"


def test_invalidate_then_warm(local_node):
    name, columns = T.PART_DAY, ["id", "value"]
    local_node.scan({"table": name})
    _ok(run_cli(["invalidate", name, "--cluster", local_node.cluster_addr]))
    assert local_node.do_action("table_stats", {"table": name})["bytes_cached"] == 0

    _ok(run_cli(["warm", name, "--columns", ",".join(columns),
                 "--cluster", local_node.cluster_addr]))
    warmed = local_node.do_action("table_stats", {"table": name})
    assert warmed["bytes_cached"] > 0
    # The warmed columns are now served from the cache: hits, no new misses.
    local_node.scan({"table": name, "columns": columns})
    after = local_node.do_action("table_stats", {"table": name})
    assert after["misses"] == warmed["misses"], (warmed, after)
    assert after["hits"] > warmed["hits"], (warmed, after)


def test_bad_sql_is_one_line_error(local_node):
    _one_line_error(_query(local_node, "SELEC id FROM test.part_identity", "csv"))


def test_unknown_table_is_one_line_error(local_node):
    _one_line_error(_query(local_node, "SELECT * FROM test.no_such_table", "csv"),
                    "no_such_table")


def test_stats_unknown_table(local_node):
    _one_line_error(run_cli(["stats", "test.no_such_table", "--cluster",
                             local_node.cluster_addr]), "no_such_table")


def test_unreachable_cluster_is_one_line_error(arrow_cache_bin):
    port = free_port()  # nothing listens here
    result = run_cli(["query", "--cluster", f"127.0.0.1:{port}", "SELECT 1", "--format", "csv"],
                     timeout=60)
    _one_line_error(result, str(port))
