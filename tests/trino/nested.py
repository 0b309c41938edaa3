"""A table of nested types for the Trino tests: struct (with a nested struct), list of ints, list
of structs, map of string to int, map of int to list of strings; nulls at every level (null
struct, null field, null list, null element, empty list, null map, empty map, null map value)."""

from __future__ import annotations

import random

from pyiceberg.schema import Schema
from pyiceberg.types import (
    DoubleType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
)

from support import tables as T

NESTED = f"{T.NAMESPACE}.nested"

NESTED_SCHEMA = Schema(
    NestedField(1, "id", LongType()),
    NestedField(2, "st", StructType(
        NestedField(3, "a", IntegerType()),
        NestedField(4, "b", StringType()),
        NestedField(5, "inner", StructType(NestedField(6, "x", DoubleType()))),
    )),
    NestedField(7, "arr", ListType(8, IntegerType(), element_required=False)),
    NestedField(9, "arr_st", ListType(10, StructType(
        NestedField(11, "k", StringType()),
        NestedField(12, "v", LongType()),
    ), element_required=False)),
    NestedField(13, "m", MapType(14, StringType(), 15, IntegerType(), value_required=False)),
    NestedField(16, "m_arr", MapType(17, IntegerType(), 18,
                                     ListType(19, StringType(), element_required=False),
                                     value_required=False)),
    NestedField(20, "tag", StringType()),
)


def _row(rng: random.Random, i: int) -> dict:
    def maybe(p, value):
        return None if rng.random() < p else value

    st = None if i % 11 == 0 else {
        "a": maybe(0.1, i % 10),
        "b": None if i % 4 == 0 else f"b{i}",
        "inner": None if i % 7 == 0 else {"x": maybe(0.1, i / 3.0)},
    }
    arr = None if i % 13 == 0 else ([] if i % 17 == 0 else
                                    [maybe(0.1, rng.randint(-5, 5)) for _ in range(rng.randint(1, 4))])
    arr_st = None if i % 16 == 0 else [{"k": f"k{i}", "v": i}, {"k": None, "v": None}][: 1 + i % 2]
    m = None if i % 18 == 0 else ({} if i % 20 == 0 else
                                  {f"k{i % 3}": i, "z": maybe(0.5, -i)})
    m_arr = None if i % 21 == 0 else {i % 4: [f"s{i}", None, "x"][: 1 + i % 3]}
    return {"id": i, "st": st, "arr": arr, "arr_st": arr_st, "m": m, "m_arr": m_arr,
            "tag": rng.choice(["alpha", "beta", None, "gamma"])}


def write_nested(wh: T.Warehouse, rows: int = 1200, appends: int = 2, seed: int = 21):
    table = T._create(wh, NESTED, NESTED_SCHEMA)
    rng = random.Random(seed)
    i = 0
    for _ in range(appends):
        batch = []
        for _ in range(rows // appends):
            batch.append(_row(rng, i))
            i += 1
        table.append(T._arrow(table, batch))
    return table
