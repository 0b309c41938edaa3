"""The JSON documents of the wire protocol, as the Python suites build and read them: scan requests
(with their filter, Iceberg REST expression JSON, and their aggregate, order and split hint), the
body of the table actions, a scan FlightInfo's app_metadata and the `cluster_status` answer.

Each model parses strictly, as the node does: an unknown key, a missing required key or a value of
the wrong type raises ProtocolError naming it, and a scan request gives at most one of
snapshot_id, as_of_timestamp_ms, branch and tag. Beyond what serde checks, the models apply the
node's own checks (ScanRequest::check, and `columns` refused with an `aggregate`). `to_json()` re-emits the document unchanged (as a
JSON value), which tests/test_protocol.py checks against the golden files in protocol/testdata/,
as the Rust and Java suites do.

One difference from the node, on purpose: an expression object with a key its type does not use is
refused here, where the node ignores it; a model that dropped it could not re-emit the document.

Standard library only, so that tests/test_protocol.py runs without the suites' venv.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Union

I64 = (-(2**63), 2**63 - 1)
U64 = (0, 2**64 - 1)
U32 = (0, 2**32 - 1)
I32 = (-(2**31), 2**31 - 1)

# The snapshot selectors of a scan request, in the order the node names them in its error.
SELECTORS = ("snapshot_id", "as_of_timestamp_ms", "branch", "tag")
# The optional keys after them.
OPTIONAL_TAIL = ("limit", "aggregate", "order_by", "target_splits")

# Expression types by the keys they carry besides "type".
LOGICAL = ("and", "or")              # left, right
UNARY = ("is-null", "not-null", "is-nan", "not-nan")                       # term
COMPARISON = ("eq", "not-eq", "lt", "lt-eq", "gt", "gt-eq", "starts-with",
              "not-starts-with")     # term, value
SET = ("in", "not-in")               # term, values
CONSTANT = ("true", "false")         # nothing
EXPRESSION_TYPES = LOGICAL + ("not",) + UNARY + COMPARISON + SET + CONSTANT

# Pushed aggregates and orders.
AGGREGATE_FUNCTIONS = ("count_star", "count", "sum", "min", "max", "avg")
AGGREGATE_MODES = ("partial", "final")
DIRECTIONS = ("asc", "desc")
NULL_ORDERS = ("first", "last")


class ProtocolError(ValueError):
    """A document the node would refuse; the message names the key at fault."""


# --------------------------------------------------------------------------------------------
# Checks shared by the models


def _load(doc, what: str) -> dict:
    """`doc` as a JSON object: a dict, or JSON text / bytes holding one."""
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode()
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as e:
            raise ProtocolError(f"malformed {what}: {e}") from e
    return _object(doc, what)


def _object(doc, what: str) -> dict:
    if not isinstance(doc, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {json.dumps(doc)}")
    return doc


def _keys(doc: dict, required: tuple, optional: tuple, what: str) -> None:
    for key in doc:
        if key not in required and key not in optional:
            raise ProtocolError(
                f"{what}: unknown key `{key}`; keys are {list(required + optional)}")
    for key in required:
        if key not in doc:
            raise ProtocolError(f"{what}: missing key `{key}`")


def _int(value, key: str, bounds: tuple[int, int]) -> int:
    # bool is an int in Python, not in JSON.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{key}: expected a whole number, got {json.dumps(value)}")
    low, high = bounds
    if not low <= value <= high:
        raise ProtocolError(f"{key}: {value} is out of range ({low} to {high})")
    return value


def _str(value, key: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{key}: expected a string, got {json.dumps(value)}")
    return value


def _strings(value, key: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ProtocolError(f"{key}: expected a list of strings, got {json.dumps(value)}")
    return tuple(_str(v, f"{key}[{i}]") for i, v in enumerate(value))


def _choice(value, key: str, choices: tuple) -> str:
    """One of `choices`, worded as serde words an unknown variant."""
    if not isinstance(value, str):
        raise ProtocolError(f"{key}: expected a string, got {json.dumps(value)}")
    if value not in choices:
        expected = " or ".join(f"`{c}`" for c in choices) if len(choices) == 2 else \
            "one of " + ", ".join(f"`{c}`" for c in choices)
        raise ProtocolError(f"{key}: unknown variant `{value}`, expected {expected}")
    return value


def _list(value, key: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise ProtocolError(f"{key}: expected a list, got {json.dumps(value)}")
    return list(value)


def _optional(doc: dict, key: str, check, *args):
    """An optional key; null means absent, as for the node."""
    value = doc.get(key)
    return None if value is None else check(value, key, *args)


def _set(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)  # normalising fields of a frozen dataclass


# --------------------------------------------------------------------------------------------
# Filter expressions (the Iceberg REST specification's expression JSON)


@dataclass(frozen=True)
class Term:
    """A column: written as its name, or as {"type": "reference", "term": name}."""
    name: str
    reference: bool = False

    def to_json(self):
        return {"type": "reference", "term": self.name} if self.reference else self.name


@dataclass(frozen=True)
class Constant:
    """`true` / `false`: {"type": "true"}, or a bare JSON boolean (which the node accepts too)."""
    value: bool
    bare: bool = False

    def to_json(self):
        return self.value if self.bare else {"type": "true" if self.value else "false"}


@dataclass(frozen=True)
class Not:
    child: "Expr"

    def to_json(self) -> dict:
        return {"type": "not", "child": self.child.to_json()}


@dataclass(frozen=True)
class Logical:
    op: str  # and | or
    left: "Expr"
    right: "Expr"

    def to_json(self) -> dict:
        return {"type": self.op, "left": self.left.to_json(), "right": self.right.to_json()}


@dataclass(frozen=True)
class Unary:
    op: str  # is-null | not-null | is-nan | not-nan
    term: Term

    def to_json(self) -> dict:
        return {"type": self.op, "term": self.term.to_json()}


@dataclass(frozen=True)
class Comparison:
    op: str  # eq | not-eq | lt | lt-eq | gt | gt-eq | starts-with | not-starts-with
    term: Term
    value: Union[str, int, float, bool]  # the literal as JSON writes it; typed by the node

    def to_json(self) -> dict:
        return {"type": self.op, "term": self.term.to_json(), "value": self.value}


@dataclass(frozen=True)
class SetTest:
    op: str  # in | not-in
    term: Term
    values: tuple

    def to_json(self) -> dict:
        return {"type": self.op, "term": self.term.to_json(), "values": list(self.values)}


Expr = Union[Constant, Not, Logical, Unary, Comparison, SetTest]


def parse_expr(doc, key: str = "filter") -> Expr:
    """An expression from its JSON; `key` is where it sits, for messages."""
    if isinstance(doc, bool):
        return Constant(doc, bare=True)
    doc = _object(doc, key)
    kind = doc.get("type")
    if kind not in EXPRESSION_TYPES:
        raise ProtocolError(f"{key}: unknown filter type {json.dumps(kind)}; expected one of "
                            f"{', '.join(EXPRESSION_TYPES)}")
    what = f"{key} ({kind})"
    if kind in CONSTANT:
        _keys(doc, ("type",), (), what)
        return Constant(kind == "true")
    if kind == "not":
        _keys(doc, ("type", "child"), (), what)
        return Not(parse_expr(doc["child"], f"{key}.child"))
    if kind in LOGICAL:
        _keys(doc, ("type", "left", "right"), (), what)
        return Logical(kind, parse_expr(doc["left"], f"{key}.left"),
                       parse_expr(doc["right"], f"{key}.right"))
    if kind in UNARY:
        _keys(doc, ("type", "term"), (), what)
        return Unary(kind, _term(doc["term"], f"{key}.term"))
    if kind in COMPARISON:
        _keys(doc, ("type", "term", "value"), (), what)
        return Comparison(kind, _term(doc["term"], f"{key}.term"),
                          _literal(doc["value"], f"{key}.value"))
    _keys(doc, ("type", "term", "values"), (), what)
    values = doc["values"]
    if not isinstance(values, list):
        raise ProtocolError(f"{key}.values: expected a list, got {json.dumps(values)}")
    return SetTest(kind, _term(doc["term"], f"{key}.term"),
                   tuple(_literal(v, f"{key}.values[{i}]") for i, v in enumerate(values)))


def _term(doc, key: str) -> Term:
    if isinstance(doc, str):
        return Term(doc)
    if isinstance(doc, dict) and doc.get("type") == "reference":
        _keys(doc, ("type", "term"), (), key)
        return Term(_str(doc["term"], f"{key}.term"), reference=True)
    if isinstance(doc, dict) and doc.get("type") == "transform":
        raise ProtocolError(f"{key}: transform terms are not supported")
    raise ProtocolError(f"{key}: expected a column name, got {json.dumps(doc)}")


def _literal(value, key: str):
    if value is None or isinstance(value, (list, dict)):
        raise ProtocolError(f"{key}: expected a number, string or boolean, got {json.dumps(value)}")
    return value


def expression_types(expr: Expr) -> set[str]:
    """Every expression type used in `expr` (`true` / `false` for constants)."""
    if isinstance(expr, Constant):
        return {"true" if expr.value else "false"}
    if isinstance(expr, Not):
        return {"not"} | expression_types(expr.child)
    if isinstance(expr, Logical):
        return {expr.op} | expression_types(expr.left) | expression_types(expr.right)
    return {expr.op}


# --------------------------------------------------------------------------------------------
# Aggregates and orders of a scan request


def _as_term(value, key: str) -> Term:
    return value if isinstance(value, Term) else _term(value, key)


@dataclass(frozen=True)
class AggregateFunction:
    """{"fn": "sum", "term": TERM}; `count_star` takes no term, every other function one. The
    constructor takes a column name as the term too."""
    fn: str
    term: Term | None = None

    def __post_init__(self):
        self.check("function")

    def check(self, key: str) -> None:
        _choice(self.fn, f"{key}.fn", AGGREGATE_FUNCTIONS)
        if self.term is not None:
            _set(self, "term", _as_term(self.term, f"{key}.term"))
        if self.fn == "count_star" and self.term is not None:
            raise ProtocolError(f"{key}: count_star takes no term")
        if self.fn != "count_star" and self.term is None:
            raise ProtocolError(f"{key}: {self.fn} needs a term")

    @classmethod
    def from_json(cls, doc, key: str = "function") -> "AggregateFunction":
        doc = _object(doc, key)
        _keys(doc, ("fn",), ("term",), key)
        fn = _choice(doc["fn"], f"{key}.fn", AGGREGATE_FUNCTIONS)
        term = None if doc.get("term") is None else _term(doc["term"], f"{key}.term")
        function = object.__new__(cls)
        _set(function, "fn", fn)
        _set(function, "term", term)
        function.check(key)
        return function

    def to_json(self) -> dict:
        out: dict = {"fn": self.fn}
        if self.term is not None:
            out["term"] = self.term.to_json()
        return out


@dataclass(frozen=True)
class Aggregate:
    """{"group_by": [TERM...] (default []), "functions": [...] (at least one), "mode": "partial" |
    "final"}. The constructor takes column names and function dicts too."""
    functions: tuple[AggregateFunction, ...]
    mode: str
    group_by: tuple[Term, ...] = ()

    def __post_init__(self):
        self.check("aggregate")

    def check(self, key: str) -> None:
        _set(self, "group_by", tuple(_as_term(t, f"{key}.group_by[{i}]")
                                     for i, t in enumerate(_list(self.group_by, f"{key}.group_by"))))
        functions = []
        for i, f in enumerate(_list(self.functions, f"{key}.functions")):
            at = f"{key}.functions[{i}]"
            if isinstance(f, AggregateFunction):
                f.check(at)
            else:
                f = AggregateFunction.from_json(f, at)
            functions.append(f)
        if not functions:
            raise ProtocolError(f"{key}.functions: give at least one function")
        _set(self, "functions", tuple(functions))
        _choice(self.mode, f"{key}.mode", AGGREGATE_MODES)

    @classmethod
    def from_json(cls, doc, key: str = "aggregate") -> "Aggregate":
        doc = _object(doc, key)
        _keys(doc, ("functions", "mode"), ("group_by",), key)
        aggregate = object.__new__(cls)
        _set(aggregate, "group_by", doc.get("group_by", []))
        _set(aggregate, "functions", doc["functions"])
        _set(aggregate, "mode", doc["mode"])
        aggregate.check(key)
        return aggregate

    def to_json(self) -> dict:
        # group_by always, as the node writes it.
        return {"group_by": [t.to_json() for t in self.group_by],
                "functions": [f.to_json() for f in self.functions], "mode": self.mode}

    def result_columns(self) -> list[str]:
        """The result's column names, as the node names them: the group-by columns, then
        `count_star`, `count(x)`, `sum(x)`, `min(x)`, `max(x)`, `avg(x)` (in partial mode `avg`
        is `avg_sum(x)` and `avg_count(x)`); a name already taken gets `#2`, `#3`, ..."""
        names = [t.name for t in self.group_by]

        def unique(what: str, term: Term | None) -> None:
            base = what if term is None else f"{what}({term.name})"
            name, n = base, 1
            while name in names:
                n += 1
                name = f"{base}#{n}"
            names.append(name)

        for f in self.functions:
            if f.fn == "avg" and self.mode == "partial":
                unique("avg_sum", f.term)
                unique("avg_count", f.term)
            else:
                unique(f.fn, f.term)
        return names


@dataclass(frozen=True)
class SortKey:
    """{"term": TERM, "direction": "asc" (default) | "desc", "nulls": "first" | "last"
    (optional: first ascending, last descending)}."""
    term: Term
    direction: str = "asc"
    nulls: str | None = None

    def __post_init__(self):
        self.check("order_by[]")

    def check(self, key: str) -> None:
        _set(self, "term", _as_term(self.term, f"{key}.term"))
        _choice(self.direction, f"{key}.direction", DIRECTIONS)
        if self.nulls is not None:
            _choice(self.nulls, f"{key}.nulls", NULL_ORDERS)

    @property
    def nulls_first(self) -> bool:
        return self.direction == "asc" if self.nulls is None else self.nulls == "first"

    @classmethod
    def from_json(cls, doc, key: str = "order_by[]") -> "SortKey":
        doc = _object(doc, key)
        _keys(doc, ("term",), ("direction", "nulls"), key)
        sort_key = object.__new__(cls)
        _set(sort_key, "term", _term(doc["term"], f"{key}.term"))
        _set(sort_key, "direction", doc.get("direction", "asc"))
        _set(sort_key, "nulls", doc.get("nulls"))
        sort_key.check(key)
        return sort_key

    def to_json(self) -> dict:
        # direction always, as the node writes it.
        out = {"term": self.term.to_json(), "direction": self.direction}
        if self.nulls is not None:
            out["nulls"] = self.nulls
        return out


def _aggregate(value, key: str) -> Aggregate:
    if isinstance(value, Aggregate):
        value.check(key)
        return value
    return Aggregate.from_json(value, key)


def _order_by(value, key: str) -> tuple[SortKey, ...]:
    keys = []
    for i, k in enumerate(_list(value, key)):
        at = f"{key}[{i}]"
        if isinstance(k, SortKey):
            k.check(at)
        else:
            k = SortKey.from_json(k, at)
        keys.append(k)
    if not keys:
        raise ProtocolError(f"{key}: give at least one key, or leave it out")
    return tuple(keys)


# --------------------------------------------------------------------------------------------
# Scan requests (the GetFlightInfo command)


@dataclass(frozen=True)
class ScanRequest:
    """{"table": "ns.tbl", "columns": [..], "filter": EXPR, "snapshot_id": N,
    "as_of_timestamp_ms": T, "branch": "b", "tag": "t", "limit": N, "aggregate": {..},
    "order_by": [..], "target_splits": N}: all but `table` optional, at most one snapshot
    selector, no `columns` with an `aggregate`, `order_by` not empty, `target_splits` >= 1.
    `columns=[]` (no column) differs from `None` (every column). The constructor takes lists,
    filter, aggregate and sort-key dicts too, and checks like from_json."""
    table: str
    columns: tuple[str, ...] | None = None
    filter: Expr | None = None
    snapshot_id: int | None = None
    as_of_timestamp_ms: int | None = None
    branch: str | None = None
    tag: str | None = None
    limit: int | None = None
    aggregate: Aggregate | None = None
    order_by: tuple[SortKey, ...] | None = None
    target_splits: int | None = None

    def __post_init__(self):
        _str(self.table, "table")
        if self.columns is not None:
            _set(self, "columns", _strings(self.columns, "columns"))
        if self.filter is not None and not isinstance(self.filter, (Constant, Not, Logical, Unary,
                                                                    Comparison, SetTest)):
            _set(self, "filter", parse_expr(self.filter))
        for key in ("snapshot_id", "as_of_timestamp_ms"):
            if getattr(self, key) is not None:
                _int(getattr(self, key), key, I64)
        for key in ("branch", "tag"):
            if getattr(self, key) is not None:
                _str(getattr(self, key), key)
        if self.limit is not None:
            _int(self.limit, "limit", U64)
        given = [key for key in SELECTORS if getattr(self, key) is not None]
        if len(given) > 1:
            # The node's words (service plan: ScanRequest::snapshot).
            raise ProtocolError(f"give one of snapshot_id, as_of_timestamp_ms, branch and tag, "
                                f"not {' and '.join(given)}")
        if self.aggregate is not None:
            _set(self, "aggregate", _aggregate(self.aggregate, "aggregate"))
            if self.columns is not None:
                # The node's words (service exec: Executor::plan_scan).
                raise ProtocolError("columns: leave it out with aggregate (the result columns are "
                                    "the group-by terms, then the functions)")
        if self.order_by is not None:
            _set(self, "order_by", _order_by(self.order_by, "order_by"))
        if self.target_splits is not None:
            _int(self.target_splits, "target_splits", U64)
            if self.target_splits < 1:
                raise ProtocolError("target_splits: must be at least 1")

    @classmethod
    def from_json(cls, doc) -> "ScanRequest":
        doc = _load(doc, "scan request")
        _keys(doc, ("table",), ("columns", "filter") + SELECTORS + OPTIONAL_TAIL, "scan request")
        return cls(
            table=_str(doc["table"], "table"),
            columns=_optional(doc, "columns", _strings),
            filter=None if doc.get("filter") is None else parse_expr(doc["filter"]),
            snapshot_id=_optional(doc, "snapshot_id", _int, I64),
            as_of_timestamp_ms=_optional(doc, "as_of_timestamp_ms", _int, I64),
            branch=_optional(doc, "branch", _str),
            tag=_optional(doc, "tag", _str),
            limit=_optional(doc, "limit", _int, U64),
            aggregate=_optional(doc, "aggregate", _aggregate),
            order_by=_optional(doc, "order_by", _order_by),
            target_splits=_optional(doc, "target_splits", _int, U64),
        )

    def to_json(self) -> dict:
        out: dict = {"table": self.table}
        if self.columns is not None:
            out["columns"] = list(self.columns)
        if self.filter is not None:
            out["filter"] = self.filter.to_json()
        for key in SELECTORS + ("limit",):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.aggregate is not None:
            out["aggregate"] = self.aggregate.to_json()
        if self.order_by is not None:
            out["order_by"] = [k.to_json() for k in self.order_by]
        if self.target_splits is not None:
            out["target_splits"] = self.target_splits
        return out

    def encode(self) -> bytes:
        """The bytes of a FlightDescriptor command (or of a DoGet ticket reading the whole scan)."""
        return json.dumps(self.to_json()).encode()

    def with_(self, **changes) -> "ScanRequest":
        return replace(self, **changes)


@dataclass(frozen=True)
class Pushed:
    """app_metadata's "pushed" (with an aggregate or an order_by): {"aggregate": "partial" |
    "final" (absent without one), "order_by": bool, "limit": bool, "splits": N}."""
    splits: int
    aggregate: str | None = None
    order_by: bool = False
    limit: bool = False

    @classmethod
    def from_json(cls, doc, key: str = "pushed") -> "Pushed":
        doc = _object(doc, key)
        _keys(doc, ("splits",), ("aggregate", "order_by", "limit"), key)
        flags = {}
        for flag in ("order_by", "limit"):
            value = doc.get(flag, False)
            if not isinstance(value, bool):
                raise ProtocolError(f"{key}.{flag}: expected true or false, got {json.dumps(value)}")
            flags[flag] = value
        aggregate = doc.get("aggregate")
        return cls(_int(doc["splits"], f"{key}.splits", U64),
                   None if aggregate is None else _choice(aggregate, f"{key}.aggregate",
                                                          AGGREGATE_MODES),
                   **flags)

    def to_json(self) -> dict:
        out: dict = {} if self.aggregate is None else {"aggregate": self.aggregate}
        out.update(order_by=self.order_by, limit=self.limit, splits=self.splits)
        return out


@dataclass(frozen=True)
class ScanAppMetadata:
    """A scan FlightInfo's app_metadata: what was read. snapshot_id is null for a table without
    snapshots; `pushed` only when the request had an aggregate or an order_by."""
    snapshot_id: int | None
    schema_id: int
    pushed: Pushed | None = None

    @classmethod
    def from_json(cls, doc) -> "ScanAppMetadata":
        doc = _load(doc, "scan app_metadata")
        _keys(doc, ("snapshot_id", "schema_id"), ("pushed",), "scan app_metadata")
        return cls(_optional(doc, "snapshot_id", _int, I64),
                   _int(doc["schema_id"], "schema_id", I32),
                   _optional(doc, "pushed", Pushed.from_json))

    def to_json(self) -> dict:
        out: dict = {"snapshot_id": self.snapshot_id, "schema_id": self.schema_id}
        if self.pushed is not None:
            out["pushed"] = self.pushed.to_json()
        return out


# --------------------------------------------------------------------------------------------
# Actions


@dataclass(frozen=True)
class TableAction:
    """The body of `table_stats`, `invalidate`, `refresh` and `warm`: {"table", "partition"?
    (k=v[,k=v]), "columns"?}."""
    table: str
    partition: str | None = None
    columns: tuple[str, ...] | None = None

    def __post_init__(self):
        _str(self.table, "table")
        if self.partition is not None:
            _str(self.partition, "partition")
        if self.columns is not None:
            _set(self, "columns", _strings(self.columns, "columns"))

    @classmethod
    def from_json(cls, doc) -> "TableAction":
        doc = _load(doc, "action body")
        _keys(doc, ("table",), ("partition", "columns"), "action body")
        return cls(_str(doc["table"], "table"), _optional(doc, "partition", _str),
                   _optional(doc, "columns", _strings))

    def to_json(self) -> dict:
        out: dict = {"table": self.table}
        if self.partition is not None:
            out["partition"] = self.partition
        if self.columns is not None:
            out["columns"] = list(self.columns)
        return out

    def encode(self) -> bytes:
        return json.dumps(self.to_json()).encode()


@dataclass(frozen=True)
class NodeStatus:
    """One member in `cluster_status`; `error` only when it is not up."""
    node_id: str
    flight: str
    control: str
    status: str  # up | down | rejected
    bytes_cached: int
    budget_bytes: int
    uptime_seconds: int
    error: str | None = None

    _REQUIRED = ("node_id", "flight", "control", "status", "bytes_cached", "budget_bytes",
                 "uptime_seconds")

    @classmethod
    def from_json(cls, doc, key: str = "node") -> "NodeStatus":
        doc = _object(doc, key)
        _keys(doc, cls._REQUIRED, ("error",), key)
        return cls(*(_str(doc[k], f"{key}.{k}") for k in cls._REQUIRED[:4]),
                   *(_int(doc[k], f"{key}.{k}", U64) for k in cls._REQUIRED[4:]),
                   error=_optional(doc, "error", _str))

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self._REQUIRED}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class ClusterStatus:
    """`cluster_status` (Flight action, CLI `cluster status`): the answering node first."""
    node_id: str
    discovery: str  # static://..., etcd://..., or single
    replication_factor: int
    nodes: tuple[NodeStatus, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, doc) -> "ClusterStatus":
        doc = _load(doc, "cluster status")
        _keys(doc, ("node_id", "discovery", "replication_factor", "nodes"), (), "cluster status")
        nodes = doc["nodes"]
        if not isinstance(nodes, list):
            raise ProtocolError(f"nodes: expected a list, got {json.dumps(nodes)}")
        return cls(_str(doc["node_id"], "node_id"), _str(doc["discovery"], "discovery"),
                   _int(doc["replication_factor"], "replication_factor", U32),
                   tuple(NodeStatus.from_json(n, f"nodes[{i}]") for i, n in enumerate(nodes)))

    def to_json(self) -> dict:
        return {"node_id": self.node_id, "discovery": self.discovery,
                "replication_factor": self.replication_factor,
                "nodes": [n.to_json() for n in self.nodes]}
