"""Aggregates, top-N and target_splits in scan requests, against pyiceberg's read of the same
snapshot aggregated with pyarrow: partial mode (one aggregate per split endpoint, merged here as
an engine merges them) and final mode (one endpoint with the merged rows)."""

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.expressions import GreaterThan

from support import tables as T
from support.compare import assert_same_rows
from support.node import grpc_status, server_message

# (name in the request, pyarrow aggregation) per function
ARROW_FN = {"count": "count", "sum": "sum", "min": "min", "max": "max", "avg": "mean"}


def aggregate_request(table, group_by, functions, mode, **extra) -> dict:
    fns = [{"fn": f} if t is None else {"fn": f, "term": t} for f, t in functions]
    return {"table": table, "aggregate": {"group_by": group_by, "functions": fns, "mode": mode}, **extra}


def expected(rows: pa.Table, group_by: list[str], functions) -> pa.Table:
    """pyarrow's aggregate of the oracle rows, named as the node names its columns. min and max
    of floats treat NaN as larger than every number (as Spark, Trino and Iceberg do; pyarrow
    skips NaN): max is NaN where a NaN occurs, min only where nothing else does."""
    key = pa.array(["*"] * rows.num_rows) if not group_by else None
    table = rows if group_by else rows.append_column("__all", key)
    keys = group_by or ["__all"]
    aggs, names, float_extremes = [], [], {}
    for f, t in functions:
        name = "count_star" if f == "count_star" else f"{f}({t})"
        names.append(name)
        if f == "count_star":
            aggs.append(([], "count_all"))
        elif f == "count":
            aggs.append((t, "count", pc.CountOptions(mode="only_valid")))
        elif f in ("min", "max") and pa.types.is_floating(rows.schema.field(t).type):
            nan, others = f"__nan_{t}", f"__others_{t}"
            if nan not in table.column_names:
                table = table.append_column(nan, pc.fill_null(pc.is_nan(rows[t]), False))
                table = table.append_column(others, pc.if_else(pc.is_nan(rows[t]), None, rows[t]))
            aggs.append((others, f))
            float_extremes[name] = (f, nan)
            aggs.append((nan, "any"))
        else:
            aggs.append((t, ARROW_FN[f]))
    out = table.group_by(keys, use_threads=False).aggregate(aggs)
    if not group_by and out.num_rows == 0:  # an aggregate without group-by has one row, always
        out = pa.table({**{arrow_name(a): pa.nulls(1, out.schema.field(arrow_name(a)).type) for a in aggs}})
        out = out.set_column(out.schema.get_field_index("count_all"), "count_all", pa.array([0], pa.int64())) \
            if "count_all" in out.column_names else out
    columns = [out[k] for k in group_by]
    for (f, t), name in zip(functions, names):
        if name in float_extremes:
            fn, nan = float_extremes[name]
            value, any_nan = out[f"__others_{t}_{fn}"], out[f"{nan}_any"]
            decides = any_nan if fn == "max" else pc.and_(pc.is_null(value), any_nan)
            columns.append(pc.if_else(decides, pa.scalar(float("nan"), value.type), value))
        elif f == "count_star":
            columns.append(out["count_all"])
        elif f == "count":
            columns.append(out[f"{t}_count"])
        else:
            columns.append(out[f"{t}_{ARROW_FN[f]}"])
    return pa.table(columns, names=group_by + names)


def arrow_name(agg) -> str:
    """The column pyarrow's group_by().aggregate() names an aggregation."""
    column, fn = agg[0], agg[1]
    return fn if column == [] else f"{column}_{fn}"


def merge_partials(parts: pa.Table, group_by: list[str], functions) -> pa.Table:
    """What an engine does with the partial endpoints: sum counts and sums, min of mins,
    max of maxes, avg = sum of sums / sum of counts."""
    aggs, finish = [], []
    for f, t in functions:
        if f == "count_star":
            aggs.append(("count_star", "sum"))
            finish.append(("count_star", lambda c: c.cast(pa.int64())))
        elif f == "avg":
            aggs += [(f"avg_sum({t})", "sum"), (f"avg_count({t})", "sum")]
            finish.append((f"avg({t})", None))
        else:
            merge = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}[f]
            aggs.append((f"{f}({t})", merge))
            finish.append((f"{f}({t})", lambda c: c))
    out = parts.group_by(group_by, use_threads=False).aggregate(aggs)
    result = {k: out[k] for k in group_by}
    for (f, t), (name, fn) in zip(functions, finish):
        if f == "avg":
            s, n = out[f"avg_sum({t})_sum"], out[f"avg_count({t})_sum"]
            result[name] = pc.divide(pc.cast(s, pa.float64()), pc.cast(n, pa.float64()))
        else:
            source = "count_star" if f == "count_star" else f"{f}({t})"
            merge = "sum" if f in ("count_star", "count", "sum") else f
            result[name] = fn(out[f"{source}_{merge}"])
    return pa.table(result)


GROUPED = [("count_star", None), ("count", "qty"), ("sum", "qty"), ("min", "note"), ("max", "amount"),
           ("avg", "amount")]


@pytest.mark.parametrize("mode", ["partial", "final"])
def test_group_by_with_nulls(local_node, local_wh, mode):
    """Group by a column with nulls; every function; doubles compared to the last bits only
    where the summation order may differ."""
    request = aggregate_request(T.PART_IDENTITY, ["region"], GROUPED, mode)
    info, got = local_node.scan(request)
    want = expected(T.oracle(local_wh.table(T.PART_IDENTITY)), ["region"], GROUPED)
    metadata = json.loads(info.app_metadata)
    assert metadata["pushed"]["aggregate"] == mode, metadata
    if mode == "final":
        assert len(info.endpoints) == 1
    else:
        got = merge_partials(got, ["region"], GROUPED)
    assert_same_rows(got, want, check_types=False, float_rel_tol=1e-12)


ALL_TYPES_FNS = [("count_star", None), ("count", "i"), ("sum", "i"), ("sum", "l"), ("sum", "dec9"),
                 ("min", "dt"), ("max", "dt"), ("min", "ts"), ("max", "tstz"), ("min", "s"), ("max", "s"),
                 ("min", "dec38"), ("max", "dec38"), ("avg", "i")]


def test_every_type_without_group_by(local_node, local_wh):
    info, got = local_node.scan(aggregate_request(T.ALL_TYPES, [], ALL_TYPES_FNS, "final"))
    want = expected(T.oracle(local_wh.table(T.ALL_TYPES)), [], ALL_TYPES_FNS)
    assert got.num_rows == 1
    assert got.schema.field("sum(i)").type == pa.int64()
    assert got.schema.field("count_star").type == pa.int64()
    assert pa.types.is_decimal(got.schema.field("sum(dec9)").type)
    assert_same_rows(got, want, check_types=False, float_rel_tol=1e-12)


def test_partial_matches_final(local_node):
    request = aggregate_request(T.LARGE, ["k"], [("count_star", None), ("sum", "v"), ("min", "s"), ("avg", "id")],
                                "partial", target_splits=6)
    info, parts = local_node.scan(request)
    assert len(info.endpoints) >= 2, "the partial scan should have several endpoints"
    merged = merge_partials(parts, ["k"], [("count_star", None), ("sum", "v"), ("min", "s"), ("avg", "id")])
    _, final = local_node.scan({**request, "aggregate": {**request["aggregate"], "mode": "final"}})
    assert_same_rows(merged, final, check_types=False, float_rel_tol=1e-12)


def test_empty_input(local_node):
    """A filter that keeps nothing: count is 0 and sum is null without group-by, no rows with it."""
    none = {"type": "lt", "term": "id", "value": -1}
    _, got = local_node.scan(aggregate_request(T.LARGE, [], [("count_star", None), ("sum", "v")], "final",
                                               filter=none))
    assert got.to_pylist() == [{"count_star": 0, "sum(v)": None}]
    _, got = local_node.scan(aggregate_request(T.LARGE, ["k"], [("count_star", None)], "final", filter=none))
    assert got.num_rows == 0


def test_filtered_aggregate_with_top_n(local_node, local_wh):
    """Final aggregate, ordered by its result, limited: the top groups."""
    request = aggregate_request(T.LARGE, ["k"], [("sum", "v")], "final",
                                filter={"type": "gt", "term": "v", "value": 0},
                                order_by=[{"term": "sum(v)", "direction": "desc"}, {"term": "k"}], limit=5)
    _, got = local_node.scan(request)
    rows = T.oracle(local_wh.table(T.LARGE), row_filter=GreaterThan("v", 0.0))
    want = expected(rows, ["k"], [("sum", "v")]).sort_by([("sum(v)", "descending"), ("k", "ascending")])
    assert got.to_pylist() == want.slice(0, 5).to_pylist()


def test_top_n_per_endpoint(local_node, local_wh):
    """order_by + limit without an aggregate: each endpoint its split's top N, sorted; the
    union's top N is the table's."""
    order = [{"term": "v", "direction": "desc", "nulls": "last"}, {"term": "id", "direction": "asc"}]
    info, got = local_node.scan({"table": T.LARGE, "columns": ["id", "v"], "order_by": order, "limit": 7,
                                 "target_splits": 6})
    assert json.loads(info.app_metadata)["pushed"] == {"order_by": True, "limit": True,
                                                        "splits": len(info.endpoints)}
    assert got.num_rows <= 7 * len(info.endpoints)
    client = local_node.flight_client()
    for ep in info.endpoints:
        part = client.do_get(ep.ticket).read_all()
        assert part.to_pylist() == part.sort_by([("v", "descending"), ("id", "ascending")]).to_pylist()
    want = T.oracle(local_wh.table(T.LARGE), ["id", "v"]).sort_by([("v", "descending"), ("id", "ascending")])
    assert got.sort_by([("v", "descending"), ("id", "ascending")]).slice(0, 7).to_pylist() == \
        want.slice(0, 7).to_pylist()


def test_target_splits_cuts_more_endpoints(local_node):
    default, _ = local_node.scan({"table": T.LARGE, "columns": ["id"], "limit": 0})
    info, got = local_node.scan({"table": T.LARGE, "columns": ["id"], "target_splits": 6})
    assert len(info.endpoints) >= 6 > len(default.endpoints), (len(info.endpoints), len(default.endpoints))
    assert got.num_rows == 300_000 and len(set(got["id"].to_pylist())) == 300_000


def test_time_travel_with_an_aggregate(local_node, local_wh):
    table = local_wh.table(T.LARGE)
    first = table.history()[0].snapshot_id
    _, got = local_node.scan(aggregate_request(T.LARGE, [], [("count_star", None), ("max", "id")], "final",
                                               snapshot_id=first))
    want = T.oracle(table, snapshot_id=first)
    assert got.to_pylist() == [{"count_star": want.num_rows, "max(id)": pc.max(want["id"]).as_py()}]


BAD = [
    ({"aggregate": {"functions": [{"fn": "median", "term": "v"}], "mode": "final"}}, "aggregate.functions[0].fn"),
    ({"aggregate": {"functions": [{"fn": "sum"}], "mode": "final"}}, "aggregate.functions[0]"),
    ({"aggregate": {"functions": [], "mode": "partial"}}, "aggregate.functions"),
    ({"aggregate": {"functions": [{"fn": "sum", "term": "v"}], "mode": "all"}}, "aggregate.mode"),
    ({"aggregate": {"functions": [{"fn": "sum", "term": "v"}], "mode": "final", "having": 1}}, "having"),
    ({"aggregate": {"functions": [{"fn": "sum", "term": "nope"}], "mode": "final"}}, "nope"),
    ({"aggregate": {"group_by": ["nope"], "functions": [{"fn": "count_star"}], "mode": "final"}}, "nope"),
    ({"aggregate": {"functions": [{"fn": "sum", "term": "s"}], "mode": "final"}}, "aggregate"),
    ({"columns": ["v"], "aggregate": {"functions": [{"fn": "sum", "term": "v"}], "mode": "final"}}, "columns"),
    ({"order_by": []}, "order_by"),
    ({"order_by": [{"term": "v", "direction": "sideways"}]}, "order_by[0].direction"),
    ({"order_by": [{"term": "nope"}], "limit": 3}, "nope"),
    ({"target_splits": 0}, "target_splits"),
]


@pytest.mark.parametrize("extra,field", BAD, ids=[f for _, f in BAD])
def test_malformed_requests_name_the_field(local_node, extra, field):
    request = {"table": T.LARGE, **extra}
    with pytest.raises(pa.ArrowException) as err:
        local_node.scan(request)
    assert grpc_status(err.value) == "INVALID_ARGUMENT", err.value
    assert field in server_message(err.value), server_message(err.value)
    local_node.assert_alive()
