"""A node with an 8 MB memory budget (6.4 MB Arrow pool) serving a ~44 MB table: results stay
exact under eviction, also with concurrent clients, and the cache never exceeds its budget."""

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from support import tables as T
from support.compare import assert_same_rows
from support.expr import in_, pred
from support.node import Node

PARTS = 16


@pytest.fixture(scope="module")
def evict(arrow_cache_bin, tmp_path_factory):
    wh = T.local_warehouse(tmp_path_factory.mktemp("evict_wh"))
    T.write_evict(wh, parts=PARTS)
    full = T.oracle(wh.table(T.EVICT))
    assert full.nbytes > 35_000_000  # the table really is several times the budget
    node = Node(tmp_path_factory.mktemp("evict_node"), storage=wh.node_storage_config(),
                memory="8MB", caching={"max_partition_size": "4MB"}, name="evict")
    node.start()
    yield node, full
    node.assert_alive()
    node.stop()


def _part(full: pa.Table, p: int) -> pa.Table:
    return full.filter(pc.equal(full["part"], p))


def _summary(full: pa.Table) -> pa.Table:
    out = full.group_by("part", use_threads=False).aggregate([
        ([], "count_all"), ("id", "sum"), ("v", "sum"), ("payload", "min"), ("payload", "max")])
    # pyarrow names aggregates `<column>_<function>`; only the count needs a new name.
    return out.rename_columns(["n" if c == "count_all" else c for c in out.column_names])


SUMMARY_SQL = ("SELECT part, count(*) AS n, sum(id) AS id_sum, sum(v) AS v_sum, "
               "min(payload) AS payload_min, max(payload) AS payload_max "
               "FROM test.evict GROUP BY part")


def test_partition_scans_stay_exact(evict):
    node, full = evict
    for rnd in range(2):  # the second round finds most partitions evicted
        for p in range(PARTS):
            _, got = node.scan({"table": T.EVICT, "filter": pred("eq", "part", p)})
            assert_same_rows(got, _part(full, p), context=f"round {rnd} part {p}")


def test_full_scan_larger_than_the_cache(evict):
    node, full = evict
    _, got = node.scan({"table": T.EVICT})
    assert_same_rows(got, full)


def test_sql_aggregate_over_the_whole_table(evict):
    node, full = evict
    # v is a multiple of 0.25 below 2**40, so its sums are exact in any order.
    assert_same_rows(node.sql(SUMMARY_SQL), _summary(full), check_types=False)


def test_concurrent_mixed_queries(evict):
    node, full = evict
    summary = _summary(full)

    def job(k: int) -> None:
        client = node.new_flight_client()
        try:
            if k % 3 == 0:
                assert_same_rows(node.sql(SUMMARY_SQL, client), summary, check_types=False,
                                 context=f"job {k}")
            elif k % 3 == 1:
                p = k % PARTS
                _, got = node.scan({"table": T.EVICT, "columns": ["id", "payload"],
                                    "filter": pred("eq", "part", p)}, client)
                assert_same_rows(got, _part(full, p).select(["id", "payload"]),
                                 context=f"job {k}")
            else:
                ps = [k % PARTS, (k * 7) % PARTS]
                _, got = node.scan({"table": T.EVICT, "filter": in_("part", ps)}, client)
                want = full.filter(pc.is_in(full["part"], pa.array(ps, pa.int32())))
                assert_same_rows(got, want, context=f"job {k}")
        finally:
            client.close()

    with ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(job, k) for k in range(24)]:
            f.result()


def test_memory_stays_within_budget(evict):
    node, full = evict
    for p in range(PARTS):  # enough traffic to force evictions even when run alone
        node.scan({"table": T.EVICT, "filter": pred("eq", "part", p), "columns": ["payload"]})
    budget = node.metric("arrow_cache_budget_bytes")
    # 80% of 8MB, whether MB is read as 10**6 or 2**20 bytes.
    assert 6_300_000 <= budget <= 6_800_000, budget
    assert node.metric("arrow_cache_bytes_cached_peak") <= budget
    assert node.metric("arrow_cache_bytes_cached") <= budget
    assert node.metric("arrow_cache_evictions_total") > 0
