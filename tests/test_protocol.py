"""The golden files of the wire protocol (protocol/testdata/): every file the Python model
(support/protocol.py) covers parses and re-emits to the same JSON value, as in the Rust and Java
suites, and what the node refuses the model refuses too. Needs no node and no venv:

    python3 -m pytest tests/test_protocol.py -q -p no:cacheprovider
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from support.protocol import (
    AGGREGATE_FUNCTIONS,
    EXPRESSION_TYPES,
    Aggregate,
    AggregateFunction,
    ClusterStatus,
    ProtocolError,
    Pushed,
    ScanAppMetadata,
    ScanRequest,
    SortKey,
    TableAction,
    Term,
    expression_types,
    parse_expr,
)

TESTDATA = Path(__file__).resolve().parent.parent / "protocol" / "testdata"

MODELS = {
    "scan_request_minimal.json": ScanRequest,
    "scan_request_full.json": ScanRequest,
    "scan_request_branch.json": ScanRequest,
    "scan_request_tag.json": ScanRequest,
    "scan_request_as_of.json": ScanRequest,
    "scan_request_aggregate.json": ScanRequest,
    "scan_request_top_n.json": ScanRequest,
    "table_action.json": TableAction,
    "scan_app_metadata.json": ScanAppMetadata,
    "cluster_status.json": ClusterStatus,
}
# Tickets are opaque to clients: only the node reads them.
OPAQUE = {"scan_ticket.json", "fragment_ticket.json"}


def golden(name: str) -> dict:
    return json.loads((TESTDATA / name).read_text())


def test_every_golden_file_is_modelled_or_opaque():
    files = {p.name for p in TESTDATA.glob("*.json")}
    assert files == set(MODELS) | OPAQUE, (
        f"new or missing golden files: {sorted(files ^ (set(MODELS) | OPAQUE))}")


def test_the_readme_lists_what_python_parses():
    # protocol/testdata/README.md: | `file` | what | parsed by |
    rows = re.findall(r"^\| `([^`]+\.json)` \|[^|]*\| ([^|]*)\|$",
                      (TESTDATA / "README.md").read_text(), re.MULTILINE)
    assert rows, "no file table in protocol/testdata/README.md"
    python = {name for name, parsed_by in rows if "Python" in parsed_by}
    assert python == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_golden_file_round_trips(name):
    doc = golden(name)
    parsed = MODELS[name].from_json(doc)
    assert parsed.to_json() == doc
    # From the file's bytes too, and through JSON text again.
    again = MODELS[name].from_json((TESTDATA / name).read_bytes()).to_json()
    assert json.loads(json.dumps(again)) == doc


def test_the_requests_use_every_expression_type():
    used = set()
    for name in MODELS:
        if MODELS[name] is ScanRequest and "filter" in golden(name):
            used |= expression_types(ScanRequest.from_json(golden(name)).filter)
    assert used == set(EXPRESSION_TYPES)


def test_requests_keep_empty_columns_apart_from_none():
    assert ScanRequest.from_json(golden("scan_request_branch.json")).columns == ()
    assert ScanRequest.from_json(golden("scan_request_minimal.json")).columns is None


def test_built_request_equals_parsed():
    doc = golden("scan_request_tag.json")
    built = ScanRequest(doc["table"], filter=doc["filter"], tag=doc["tag"])
    assert built == ScanRequest.from_json(doc)
    assert json.loads(built.encode()) == doc
    assert built.with_(tag=None, limit=5).to_json() == {**{k: v for k, v in doc.items()
                                                          if k != "tag"}, "limit": 5}


def test_aggregate_file_uses_every_function_and_both_term_forms():
    request = ScanRequest.from_json(golden("scan_request_aggregate.json"))
    aggregate = request.aggregate
    assert {f.fn for f in aggregate.functions} == set(AGGREGATE_FUNCTIONS)
    assert aggregate.group_by == (Term("l_returnflag"), Term("l_linestatus", reference=True))
    assert aggregate.mode == "partial" and request.target_splits == 8 and request.columns is None
    assert aggregate.result_columns() == [
        "l_returnflag", "l_linestatus", "count_star", "count(l_orderkey)", "sum(l_quantity)",
        "min(l_shipdate)", "max(l_comment)", "avg_sum(l_discount)", "avg_count(l_discount)"]


def test_result_columns_are_named_as_the_node_names_them():
    functions = [{"fn": "count_star"}, {"fn": "sum", "term": "x"}, {"fn": "sum", "term": "x"},
                 {"fn": "avg", "term": "x"}, {"fn": "count_star"}, {"fn": "min", "term": "g"}]
    final = Aggregate(functions, "final", group_by=["g"])
    assert final.result_columns() == ["g", "count_star", "sum(x)", "sum(x)#2", "avg(x)",
                                      "count_star#2", "min(g)"]
    assert Aggregate(functions, "partial", group_by=["g"]).result_columns() == [
        "g", "count_star", "sum(x)", "sum(x)#2", "avg_sum(x)", "avg_count(x)", "count_star#2",
        "min(g)"]


def test_top_n_file_and_null_order_defaults():
    request = ScanRequest.from_json(golden("scan_request_top_n.json"))
    desc, asc = request.order_by
    assert (desc.direction, desc.nulls, desc.nulls_first) == ("desc", "last", False)
    assert (asc.direction, asc.nulls, asc.nulls_first) == ("asc", None, True)
    assert not SortKey("a", "desc").nulls_first and SortKey("a", "desc", "first").nulls_first
    assert request.limit == 10


def test_built_aggregate_request_equals_parsed():
    doc = golden("scan_request_aggregate.json")
    built = ScanRequest(
        doc["table"], filter=doc["filter"], snapshot_id=doc["snapshot_id"],
        aggregate=Aggregate(
            functions=[AggregateFunction("count_star"), AggregateFunction("count", "l_orderkey"),
                       AggregateFunction("sum", "l_quantity"), {"fn": "min", "term": "l_shipdate"},
                       AggregateFunction("max", "l_comment"), AggregateFunction("avg", "l_discount")],
            mode="partial",
            group_by=["l_returnflag", Term("l_linestatus", reference=True)]),
        order_by=[SortKey("l_returnflag", "asc", "first"), doc["order_by"][1]],
        target_splits=8)
    assert built == ScanRequest.from_json(doc)
    assert json.loads(built.encode()) == doc


def test_defaults_are_written_as_the_node_writes_them():
    # group_by and direction always; nulls only when given.
    request = ScanRequest.from_json({"table": "a.b", "order_by": [{"term": "x"}],
                                     "aggregate": {"functions": [{"fn": "count_star"}],
                                                   "mode": "final"}})
    assert request.to_json() == {
        "table": "a.b", "order_by": [{"term": "x", "direction": "asc"}],
        "aggregate": {"group_by": [], "functions": [{"fn": "count_star"}], "mode": "final"}}
    # null is absent, as for every optional key.
    assert ScanRequest.from_json({"table": "a.b", "aggregate": None, "order_by": None,
                                  "target_splits": None}) == ScanRequest("a.b")


def test_pushed_app_metadata_round_trips():
    for doc in [{"snapshot_id": 7, "schema_id": 1,
                 "pushed": {"aggregate": "final", "order_by": True, "limit": True, "splits": 1}},
                {"snapshot_id": None, "schema_id": 0,
                 "pushed": {"order_by": True, "limit": False, "splits": 4}}]:
        assert ScanAppMetadata.from_json(doc).to_json() == doc
    parsed = ScanAppMetadata.from_json({"snapshot_id": 7, "schema_id": 1,
                                        "pushed": {"aggregate": "partial", "splits": 3}})
    assert parsed.pushed == Pushed(3, "partial")
    assert parsed.pushed.to_json() == {"aggregate": "partial", "order_by": False, "limit": False,
                                       "splits": 3}
    assert ScanAppMetadata.from_json(golden("scan_app_metadata.json")).pushed is None


def _with(name: str, **changes) -> dict:
    doc = copy.deepcopy(golden(name))
    doc.update(changes)
    return doc


def _without(name: str, key: str) -> dict:
    doc = copy.deepcopy(golden(name))
    del doc[key]
    return doc


# (document, model, words the message must contain)
REFUSED = {
    "unknown-key": (_with("scan_request_full.json", colums=["a"]), ScanRequest, ["colums"]),
    "two-selectors": (_with("scan_request_tag.json", snapshot_id=1), ScanRequest,
                      ["not snapshot_id and tag"]),
    "three-selectors": (_with("scan_request_branch.json", as_of_timestamp_ms=1, tag="t"),
                        ScanRequest, ["not as_of_timestamp_ms and branch and tag"]),
    "no-table": (_without("scan_request_minimal.json", "table"), ScanRequest, ["table"]),
    "table-not-string": (_with("scan_request_minimal.json", table=7), ScanRequest, ["table"]),
    "negative-limit": (_with("scan_request_minimal.json", limit=-1), ScanRequest, ["limit"]),
    "fractional-limit": (_with("scan_request_minimal.json", limit=1.5), ScanRequest, ["limit"]),
    "boolean-limit": (_with("scan_request_minimal.json", limit=True), ScanRequest, ["limit"]),
    "snapshot-id-out-of-range": (_with("scan_request_minimal.json", snapshot_id=2**63),
                                 ScanRequest, ["snapshot_id"]),
    "columns-not-strings": (_with("scan_request_minimal.json", columns=["a", 1]), ScanRequest,
                            ["columns[1]"]),
    "not-an-object": ([golden("scan_request_minimal.json")], ScanRequest, ["object"]),
    "malformed-json": ('{"table": "ns.t", ', ScanRequest, ["malformed scan request"]),
    "unknown-filter-type": (_with("scan_request_minimal.json", filter={"type": "like",
                                                                       "term": "a"}),
                            ScanRequest, ["like"]),
    "filter-without-term": (_with("scan_request_minimal.json", filter={"type": "eq", "value": 1}),
                            ScanRequest, ["term"]),
    "filter-null-value": (_with("scan_request_minimal.json",
                                filter={"type": "eq", "term": "a", "value": None}),
                          ScanRequest, ["filter.value"]),
    "filter-unknown-key": (_with("scan_request_minimal.json",
                                 filter={"type": "is-null", "term": "a", "value": 1}),
                           ScanRequest, ["value"]),
    "nested-filter-error": (_with("scan_request_minimal.json",
                                  filter={"type": "and", "left": {"type": "true"},
                                          "right": {"type": "in", "term": "a", "values": 3}}),
                            ScanRequest, ["filter.right.values"]),
    "transform-term": (_with("scan_request_minimal.json",
                             filter={"type": "is-null",
                                     "term": {"type": "transform", "transform": "day",
                                              "term": "ts"}}),
                       ScanRequest, ["transform"]),
    "aggregate-no-functions": (
        _with("scan_request_aggregate.json", aggregate={"functions": [], "mode": "partial"}),
        ScanRequest, ["aggregate.functions: give at least one function"]),
    "aggregate-functions-missing": (
        _with("scan_request_aggregate.json", aggregate={"mode": "partial"}),
        ScanRequest, ["aggregate", "functions"]),
    "sum-without-term": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "count_star"}, {"fn": "sum"}], "mode": "final"}),
        ScanRequest, ["aggregate.functions[1]: sum needs a term"]),
    "count-star-with-term": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "count_star", "term": "x"}], "mode": "partial"}),
        ScanRequest, ["aggregate.functions[0]: count_star takes no term"]),
    "unknown-function": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "median", "term": "x"}], "mode": "final"}),
        ScanRequest, ["aggregate.functions[0].fn", "median"]),
    "bad-mode": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "sum", "term": "x"}], "mode": "both"}),
        ScanRequest, ["aggregate.mode", "both"]),
    "aggregate-unknown-key": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "sum", "term": "x"}], "mode": "final",
                         "having": {"type": "true"}}),
        ScanRequest, ["aggregate", "having"]),
    "function-unknown-key": (
        _with("scan_request_aggregate.json",
              aggregate={"functions": [{"fn": "sum", "term": "x", "distinct": True}],
                         "mode": "final"}),
        ScanRequest, ["aggregate.functions[0]", "distinct"]),
    "group-by-not-a-term": (
        _with("scan_request_aggregate.json",
              aggregate={"group_by": [3], "functions": [{"fn": "count_star"}], "mode": "final"}),
        ScanRequest, ["aggregate.group_by[0]"]),
    "group-by-null": (
        _with("scan_request_aggregate.json",
              aggregate={"group_by": None, "functions": [{"fn": "count_star"}], "mode": "final"}),
        ScanRequest, ["aggregate.group_by"]),
    "columns-with-aggregate": (_with("scan_request_aggregate.json", columns=["l_returnflag"]),
                               ScanRequest, ["columns: leave it out with aggregate"]),
    "bad-direction": (_with("scan_request_top_n.json", order_by=[{"term": "x",
                                                                   "direction": "up"}]),
                      ScanRequest, ["order_by[0].direction", "up"]),
    "bad-nulls": (_with("scan_request_top_n.json", order_by=[{"term": "x", "direction": "asc"},
                                                             {"term": "y", "nulls": "middle"}]),
                  ScanRequest, ["order_by[1].nulls", "middle"]),
    "sort-key-unknown-key": (_with("scan_request_top_n.json", order_by=[{"term": "x",
                                                                          "dir": "asc"}]),
                             ScanRequest, ["order_by[0]", "dir"]),
    "sort-key-without-term": (_with("scan_request_top_n.json", order_by=[{"direction": "asc"}]),
                              ScanRequest, ["order_by[0]", "term"]),
    "empty-order-by": (_with("scan_request_top_n.json", order_by=[]), ScanRequest,
                       ["order_by: give at least one key"]),
    "order-by-not-a-list": (_with("scan_request_top_n.json", order_by={"term": "x"}), ScanRequest,
                            ["order_by"]),
    "target-splits-zero": (_with("scan_request_aggregate.json", target_splits=0), ScanRequest,
                           ["target_splits: must be at least 1"]),
    "target-splits-fractional": (_with("scan_request_aggregate.json", target_splits=2.5),
                                 ScanRequest, ["target_splits"]),
    "pushed-without-splits": (_with("scan_app_metadata.json", pushed={"order_by": True}),
                              ScanAppMetadata, ["pushed", "splits"]),
    "pushed-bad-mode": (_with("scan_app_metadata.json", pushed={"aggregate": "all", "splits": 1}),
                        ScanAppMetadata, ["pushed.aggregate", "all"]),
    "pushed-unknown-key": (_with("scan_app_metadata.json", pushed={"splits": 1, "sorted": True}),
                           ScanAppMetadata, ["pushed", "sorted"]),
    "pushed-flag-not-bool": (_with("scan_app_metadata.json", pushed={"splits": 1, "limit": 1}),
                             ScanAppMetadata, ["pushed.limit"]),
    "action-unknown-key": (_with("table_action.json", partitions="a=1"), TableAction,
                           ["partitions"]),
    "action-no-table": (_without("table_action.json", "table"), TableAction, ["table"]),
    "metadata-unknown-key": (_with("scan_app_metadata.json", snapshot=1), ScanAppMetadata,
                             ["snapshot"]),
    "status-node-without-status": (
        {**golden("cluster_status.json"),
         "nodes": [{k: v for k, v in golden("cluster_status.json")["nodes"][0].items()
                    if k != "status"}]},
        ClusterStatus, ["nodes[0]", "status"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused(case):
    doc, model, words = REFUSED[case]
    with pytest.raises(ProtocolError) as e:
        model.from_json(doc)
    for w in words:
        assert w in str(e.value), f"{case}: {e.value}"


def test_constructor_checks_like_from_json():
    with pytest.raises(ProtocolError, match="not snapshot_id and branch"):
        ScanRequest("ns.t", snapshot_id=1, branch="b")
    with pytest.raises(ProtocolError, match="limit"):
        ScanRequest("ns.t", limit=-3)
    with pytest.raises(ProtocolError, match="unknown filter type"):
        ScanRequest("ns.t", filter={"type": "nope"})
    with pytest.raises(ProtocolError, match="target_splits"):
        ScanRequest("ns.t", target_splits=0)
    with pytest.raises(ProtocolError, match="order_by"):
        ScanRequest("ns.t", order_by=())
    with pytest.raises(ProtocolError, match="columns: leave it out with aggregate"):
        ScanRequest("ns.t", columns=["a"], aggregate={"functions": [{"fn": "count_star"}],
                                                      "mode": "final"})
    with pytest.raises(ProtocolError, match="sum needs a term"):
        AggregateFunction("sum")
    with pytest.raises(ProtocolError, match="count_star takes no term"):
        AggregateFunction("count_star", "x")
    with pytest.raises(ProtocolError, match="aggregate.functions: give at least one"):
        Aggregate((), "final")
    with pytest.raises(ProtocolError, match="direction"):
        SortKey("x", "up")


def test_bare_booleans_and_references_re_emit_as_written():
    for doc in [True, False, {"type": "true"},
                {"type": "not-null", "term": {"type": "reference", "term": "a"}},
                {"type": "not-in", "term": "a", "values": []}]:
        assert parse_expr(doc).to_json() == doc


def test_the_suites_filters_fit_the_model():
    """Every filter of the filter matrix (support/cases.py) is a document the model takes and
    re-emits unchanged: the suites and this model speak the same protocol. Needs the venv."""
    pytest.importorskip("pyiceberg")
    from support.cases import filter_cases

    for case in filter_cases():
        request = ScanRequest(case.table, columns=case.columns, filter=case.expr)
        assert request.to_json()["filter"] == case.expr, case.id
