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
    EXPRESSION_TYPES,
    ClusterStatus,
    ProtocolError,
    ScanAppMetadata,
    ScanRequest,
    TableAction,
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
