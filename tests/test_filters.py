"""Every operator of the REST expression JSON, on partition and data columns of every type,
against pyiceberg's read of the same filter (see support/expr.py for the null/NaN semantics
and ARROW_CACHE_FILTER_SEMANTICS)."""

import pytest

from support import tables as T
from support.cases import filter_cases
from support.compare import assert_same_rows
from support.expr import MODES, SEMANTICS, and_, expected_scan, pred, unary

CASES = filter_cases()


def _check(node, table, case_id, request, expected, semantics=SEMANTICS):
    _, got = node.scan(request)
    try:
        assert_same_rows(got, expected, context=case_id)
    except AssertionError as e:
        # Say which semantics the cache's answer does match: that is usually the whole story.
        matches = []
        for mode in MODES:
            if mode == semantics:
                continue
            other = expected_scan(table, request["filter"], request.get("columns"),
                                  request.get("snapshot_id"), semantics=mode)
            try:
                assert_same_rows(got, other)
                matches.append(mode)
            except AssertionError:
                pass
        note = (f"\n(expected semantics: {semantics}; the cache's rows match the "
                f"{' and '.join(matches)} semantics instead)" if matches else "")
        raise AssertionError(f"{e}\nfilter: {request['filter']}{note}") from None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_filter(local_node, local_wh, case):
    table = local_wh.table(case.table)
    request = {"table": case.table, "filter": case.expr}
    if case.columns:
        request["columns"] = case.columns
    _check(local_node, table, case.id, request, expected_scan(table, case.expr, case.columns))


S3_CASE_IDS = ["all_types-eq-s", "all_types-gt-eq-tstz-2024-06-01T00:00:00+00:00",
               "all_types-in-u", "all_types-is-nan-d", "all_types-eq-dec38",
               "part_identity-eq", "part_identity-is-null", "part_identity-partition-and-data"]
S3_CASES = [c for c in CASES if c.id in S3_CASE_IDS]
assert len(S3_CASES) == len(S3_CASE_IDS)


@pytest.mark.parametrize("case", S3_CASES, ids=[c.id for c in S3_CASES])
def test_filter_s3(s3_node, s3_wh, case):
    table = s3_wh.table(case.table)
    request = {"table": case.table, "filter": case.expr}
    _check(s3_node, table, case.id, request, expected_scan(table, case.expr))


def test_filter_with_snapshot_id(local_node, local_wh):
    table = local_wh.table(T.ALL_TYPES)
    snap = table.snapshots()[1].snapshot_id
    expr = and_(pred("gt", "i", 0), unary("not-null", "s"))
    request = {"table": T.ALL_TYPES, "filter": expr, "snapshot_id": snap}
    _check(local_node, table, "snapshot", request, expected_scan(table, expr, snapshot_id=snap))


def test_filter_is_exact_when_repeated(local_node, local_wh):
    """A cached table must give the same filtered answer as the first (cold) read."""
    case = next(c for c in CASES if c.id == "part_identity-partition-or-data")
    table = local_wh.table(case.table)
    expected = expected_scan(table, case.expr)
    for _ in range(3):
        _check(local_node, table, case.id, {"table": case.table, "filter": case.expr}, expected)
