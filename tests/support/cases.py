"""The filter matrix: every operator of the REST expression JSON, on partition and data
columns of every type, with nulls, NaN, +-inf and -0.0 in the data.

`expect` says what the oracle result must look like (checked offline by test_oracle.py), so a
literal that silently matches nothing cannot hide a weak case:
  "some" = neither empty nor the whole table, "none" = empty, "all" = every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .expr import FALSE, TRUE, and_, in_, not_, not_in, or_, pred, unary
from .tables import (
    ALL_TYPES,
    ALL_TYPES_SCHEMA,
    EVOLUTION,
    LARGE,
    PART_BUCKET,
    PART_DAY,
    PART_IDENTITY,
    PROBE,
)


@dataclass
class FilterCase:
    id: str
    table: str
    expr: dict
    columns: list[str] | None = None
    expect: str = "some"


PROBE_U = str(PROBE["u"])
ZERO_U = "00000000-0000-0000-0000-000000000000"
PROBE_FX = PROBE["fx"].hex()
PROBE_BIN = PROBE["bin"].hex()


def _all_types() -> list[FilterCase]:
    T = ALL_TYPES
    c = []

    def add(id_, expr, columns=None, expect="some"):
        c.append(FilterCase(f"all_types-{id_}", T, expr, columns, expect))

    # eq on every type (literals as the REST spec writes them)
    for col, value in [("i", 7), ("l", 7_000_000_049), ("f", 1.5), ("d", 2.5),
                       ("dec9", "12.34"), ("dec38", "-1234567890123456789.0123456789"),
                       ("dt", "2024-01-01"), ("t", "10:00:00"), ("ts", "2024-01-01T10:00:00"),
                       ("tstz", "2024-01-01T10:00:00+00:00"), ("s", "abc"), ("b", True),
                       ("u", PROBE_U), ("fx", PROBE_FX), ("bin", PROBE_BIN)]:
        add(f"eq-{col}", pred("eq", col, value))
    add("eq-s-empty", pred("eq", "s", ""))
    add("eq-s-multibyte", pred("eq", "s", "日本"))
    add("eq-d-zero-matches-negative-zero", pred("eq", "d", 0.0))
    add("eq-tstz-offset", pred("eq", "tstz", "2024-01-01T12:00:00+02:00"))  # same instant
    add("eq-bin-empty", pred("eq", "bin", ""))
    add("eq-i-min", pred("eq", "i", -(2**31)))
    add("eq-l-max", pred("eq", "l", 2**63 - 1))

    # not-eq: nulls and NaN are where engines disagree
    for col, value in [("i", 7), ("s", "abc"), ("b", True), ("d", 2.5), ("f", 1.5),
                       ("dec9", "12.34"), ("dt", "2024-01-01"), ("u", PROBE_U),
                       ("tstz", "2024-01-01T10:00:00+00:00"), ("bin", PROBE_BIN)]:
        add(f"not-eq-{col}", pred("not-eq", col, value))

    # ordering comparisons
    for op, col, value in [
        ("lt", "i", 0), ("lt-eq", "i", 7), ("gt", "i", 40), ("gt-eq", "i", -3),
        ("gt-eq", "l", 0), ("lt", "l", -(2**62)),
        ("lt", "f", 0.0), ("gt", "f", 10.0), ("lt-eq", "f", -0.0),
        ("gt", "d", 100.0), ("lt-eq", "d", -1e299), ("gt-eq", "d", 0.0),
        ("lt-eq", "dec9", "0.00"), ("gt", "dec9", "12.34"),
        ("gt", "dec38", "0.0000000000"), ("lt", "dec38", "-999999999999999999.0000000000"),
        ("lt", "dt", "2024-01-01"), ("gt-eq", "dt", "1970-01-01"), ("lt", "dt", "1970-01-01"),
        ("gt", "t", "12:00:00"), ("lt-eq", "t", "00:00:00.000001"),
        ("lt", "ts", "1970-01-01T00:00:00"), ("gt-eq", "ts", "2024-06-01T00:00:00.5"),
        ("gt-eq", "tstz", "2024-06-01T00:00:00+00:00"), ("lt", "tstz", "1970-01-01T01:00:00+01:00"),
        ("gt", "s", "b"), ("lt-eq", "s", "ab"), ("gt", "s", "z"),  # byte order: é, 日 > z
        ("gt", "b", False),
        ("gt", "bin", "80"), ("lt", "fx", "80" + "00" * 15),  # unsigned byte order
        ("lt", "u", "80000000-0000-0000-0000-000000000000"),
    ]:
        add(f"{op}-{col}-{value}", pred(op, col, value))

    # sets
    add("in-i", in_("i", [1, 2, 3, 7]))
    add("in-i-single", in_("i", [7]))
    add("in-l", in_("l", [7_000_000_049, -(2**63), 123]))
    add("in-s", in_("s", ["abc", "", "日本"]))
    add("in-dt", in_("dt", ["2024-01-01", "1900-01-01"]))
    add("in-dec9", in_("dec9", ["12.34", "9999999.99"]))
    add("in-u", in_("u", [PROBE_U, ZERO_U]))
    add("in-bin", in_("bin", [PROBE_BIN, ""]))
    add("in-f", in_("f", [1.5, -1.25]))
    add("in-tstz", in_("tstz", ["2024-01-01T10:00:00+00:00", "2200-01-01T00:00:00+00:00"]))
    add("not-in-i", not_in("i", [1, 2, 3]))
    add("not-in-i-single", not_in("i", [7]))
    add("not-in-s", not_in("s", ["abc", ""]))
    add("not-in-d", not_in("d", [2.5, 0.0]))
    add("not-in-u", not_in("u", [PROBE_U, ZERO_U]))

    # null / NaN tests on every column
    for f in ALL_TYPES_SCHEMA.fields:
        if f.name != "id":
            add(f"is-null-{f.name}", unary("is-null", f.name))
            add(f"not-null-{f.name}", unary("not-null", f.name))
    for col in ("f", "d"):
        add(f"is-nan-{col}", unary("is-nan", col))
        add(f"not-nan-{col}", unary("not-nan", col))

    # prefixes, including LIKE metacharacters that must be taken literally
    for prefix in ["ab", "", "é", "日本", "ab%", "a%", "_", "%"]:
        add(f"starts-with-{prefix or 'empty'}", pred("starts-with", "s", prefix),
            expect="some")
    for prefix in ["ab", "a%", "", "é"]:
        add(f"not-starts-with-{prefix or 'empty'}", pred("not-starts-with", "s", prefix),
            expect="none" if prefix == "" else "some")

    # boolean structure
    add("and", and_(pred("gt", "i", 0), pred("starts-with", "s", "a")))
    add("or", or_(unary("is-null", "s"), pred("eq", "i", 7)))
    add("not-eq-via-not", not_(pred("eq", "i", 7)))
    add("not-is-null", not_(unary("is-null", "s")))
    add("not-range-d", not_(and_(pred("gt", "d", 0.0), pred("lt", "d", 100.0))))
    add("not-lt-f", not_(pred("lt", "f", 3.0)))
    add("or-nan", or_(unary("is-nan", "f"), pred("lt", "f", -10.0)))
    add("nested", and_(unary("not-null", "tstz"),
                       or_(pred("lt", "ts", "2024-01-01T00:00:00"), pred("eq", "b", True))))
    add("double-not", not_(not_(pred("eq", "s", "abc"))))
    add("not-in-via-not", not_(in_("i", [1, 2, 3])))
    add("not-starts-with-via-not", not_(pred("starts-with", "s", "ab")))
    add("or-uuid", or_(pred("eq", "u", PROBE_U), unary("is-null", "u")))
    add("true", TRUE, expect="all")
    add("false", FALSE, expect="none")
    add("and-true", and_(TRUE, pred("eq", "i", 7)))
    add("or-false", or_(FALSE, pred("eq", "i", 7)))
    add("not-false", not_(FALSE), expect="all")
    add("and-false", and_(pred("eq", "i", 7), FALSE), expect="none")
    add("contradiction", and_(pred("lt", "i", 0), pred("gt", "i", 0)), expect="none")
    # filter columns need not be projected
    add("projected-away", pred("gt", "d", 0.0), columns=["id", "s"])
    add("projected-uuid", pred("eq", "s", "abc"), columns=["u", "fx"])
    return c


def _part_identity() -> list[FilterCase]:
    T = PART_IDENTITY
    cases = [
        ("eq", pred("eq", "region", "eu")),
        ("eq-multibyte", pred("eq", "region", "é-1")),
        ("not-eq", pred("not-eq", "region", "eu")),
        ("in", in_("region", ["us", "ap"])),
        ("not-in", not_in("region", ["us", "ap"])),
        ("is-null", unary("is-null", "region")),
        ("not-null", unary("not-null", "region")),
        ("starts-with", pred("starts-with", "region", "e")),
        ("not-starts-with", pred("not-starts-with", "region", "e")),
        ("lt", pred("lt", "region", "f")),
        ("partition-and-data", and_(pred("eq", "region", "us"), pred("gt", "qty", 10))),
        ("partition-or-data", or_(pred("eq", "region", "sa"), unary("is-nan", "amount"))),
        ("not-partition", not_(pred("eq", "region", "us"))),
        ("is-nan", unary("is-nan", "amount")),
        ("not-nan", unary("not-nan", "amount")),
        ("gt-amount", pred("gt", "amount", 0.0)),
        ("not-eq-amount", pred("not-eq", "amount", 0.0)),
        ("note-starts-with", pred("starts-with", "note", "prom")),
        ("note-not-starts-with", pred("not-starts-with", "note", "prom")),
        ("qty-is-null", unary("is-null", "qty")),
    ]
    return [FilterCase(f"part_identity-{i}", T, e) for i, e in cases] + [
        FilterCase("part_identity-projection", T, pred("eq", "region", "ap"), ["id", "qty"])]


def _part_day() -> list[FilterCase]:
    T = PART_DAY
    cases = [
        ("ts-gt-eq", pred("gt-eq", "ts", "2024-01-01T00:00:00")),
        ("ts-lt-midday", pred("lt", "ts", "2023-12-30T12:00:00")),
        ("ts-one-day", and_(pred("gt-eq", "ts", "2024-01-02T00:00:00"),
                            pred("lt", "ts", "2024-01-03T00:00:00"))),
        ("ts-not-lt", not_(pred("lt", "ts", "2024-01-05T00:00:00"))),
        ("ts-is-null", unary("is-null", "ts")),
        ("ts-eq-none", pred("eq", "ts", "2024-01-02T00:00:00")),
        ("date-eq", pred("eq", "date", "2024-01-01")),
        ("date-gt-eq", pred("gt-eq", "date", "2024-01-01")),
        ("date-in", in_("date", ["2023-12-31", "2024-01-04"])),
        ("date-not-in", not_in("date", ["2023-12-31", "2024-01-04"])),
        ("event-and-day", and_(pred("eq", "event", "buy"), pred("lt", "date", "2023-12-29"))),
        ("event-not-eq", pred("not-eq", "event", "buy")),
        ("value-or-day", or_(pred("gt", "value", 990), pred("eq", "date", "2024-01-07"))),
    ]
    out = [FilterCase(f"part_day-{i}", T, e) for i, e in cases]
    out[5].expect = "none"  # no row sits exactly on midnight (microsecond timestamps)
    return out


def _part_bucket() -> list[FilterCase]:
    T = PART_BUCKET
    cases = [
        ("eq", pred("eq", "id", 42)),
        ("eq-negative", pred("eq", "id", -7)),
        ("in", in_("id", [0, 1, 2, 12345, 999_999])),
        ("not-in", not_in("id", [0, 1, 2])),
        ("not-eq", pred("not-eq", "id", 42)),
        ("lt", pred("lt", "id", 0)),
        ("gt-eq", pred("gt-eq", "id", 12345)),
        ("is-null", unary("is-null", "id")),
        ("not-null", unary("not-null", "id")),
        ("not-in-via-not", not_(in_("id", [0, 1, 2]))),
        ("score", pred("gt", "score", 5.0)),
        ("bucket-and-score", and_(in_("id", [0, 1, 42, -7]), unary("not-null", "score"))),
    ]
    return [FilterCase(f"part_bucket-{i}", T, e) for i, e in cases]


def _evolution() -> list[FilterCase]:
    T = EVOLUTION
    cases = [
        ("renamed-eq", pred("eq", "full_name", "name3")),
        ("renamed-starts-with", pred("starts-with", "full_name", "name1")),
        ("added-is-null", unary("is-null", "extra")),
        ("added-not-null", unary("not-null", "extra")),
        ("added-eq", pred("eq", "extra", "x")),
        ("added-not-eq", pred("not-eq", "extra", "x")),
        ("promoted-long-gt", pred("gt", "qty", 1000)),
        ("promoted-long-lt", pred("lt", "qty", 0)),
        ("promoted-double-lt", pred("lt", "price", 10.0)),
        ("promoted-double-eq", pred("eq", "price", 12.25)),
    ]
    return [FilterCase(f"evolution-{i}", T, e) for i, e in cases] + [
        FilterCase("evolution-projection", T, unary("is-null", "extra"), ["id", "full_name"])]


def _large() -> list[FilterCase]:
    T = LARGE
    return [
        FilterCase("large-k", T, pred("lt", "k", 5)),
        FilterCase("large-id-range", T, and_(pred("gt-eq", "id", 100_000),
                                             pred("lt", "id", 100_100))),
        FilterCase("large-s-in", T, in_("s", ["s1", "s999"]), ["id", "s"]),
    ]


# Cases where pyiceberg 0.12's row_filter result differs from consistent SQL logic (the `sql`
# semantics), and why. test_oracle.py checks this list is exact.
_NOT_IN_NULLS = ("pyiceberg evaluates not-in with 2+ values as NOT is_in(...), and pyarrow's "
                 "is_in says false (not null) for a null, so null rows are kept; not-eq and "
                 "one-value not-in (bound as not-eq) drop them")
PYICEBERG_QUIRKS = {
    "all_types-not-in-i": _NOT_IN_NULLS,
    "all_types-not-in-s": _NOT_IN_NULLS,
    "all_types-not-in-via-not": _NOT_IN_NULLS,
    "all_types-not-in-d": _NOT_IN_NULLS + "; also is_in hashes floats, so -0.0 is not in "
                                          "[0.0] although -0.0 = 0.0 under eq",
    "part_identity-not-in": _NOT_IN_NULLS,
    "part_day-date-not-in": _NOT_IN_NULLS,
    "part_bucket-not-in": _NOT_IN_NULLS,
    "part_bucket-not-in-via-not": _NOT_IN_NULLS,
    "evolution-added-not-eq": "for data files written before `extra` existed, pyiceberg "
                              "evaluates the predicate on a null constant in Python "
                              "(None != 'x' is True) and keeps those rows, yet drops rows whose "
                              "`extra` is stored as null",
}
# (all_types-not-in-u has the same not-in behaviour, but pyiceberg cannot filter uuids at all.)


def filter_cases() -> list[FilterCase]:
    return _all_types() + _part_identity() + _part_day() + _part_bucket() + _evolution() + \
        _large()
