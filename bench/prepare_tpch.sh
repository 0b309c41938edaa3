#!/usr/bin/env bash
# Generates TPC-H lineitem with tpchgen-cli and writes it as the Iceberg table
# `tpch.lineitem` with pyiceberg (SQL catalog on SQLite). Idempotent: a finished
# warehouse for the same scale factor is left alone.
#
#   bench/prepare_tpch.sh [SF] [DIR]
#
# SF  scale factor (default 1: 6,001,215 rows)
# DIR where it goes (default $HOME/.cache/arrow-cache/bench/sf$SF)
#     DIR/catalog.db     SQLite catalog, catalog name `default`
#     DIR/warehouse/     file:// warehouse, table tpch.lineitem
#     DIR/tpchgen/       the raw tpchgen-cli Parquet (kept; regenerating costs time)
#
# Bench-only Python packages (tpchgen-cli, pyiceberg, pyarrow) go into their own
# venv, $ARROW_CACHE_BENCH_VENV (default $HOME/.cache/arrow-cache/bench-venv),
# never into the repo's test venv.
set -euo pipefail

SF="${1:-1}"
DIR="${2:-$HOME/.cache/arrow-cache/bench/sf$SF}"
VENV="${ARROW_CACHE_BENCH_VENV:-$HOME/.cache/arrow-cache/bench-venv}"
CHUNK_ROWS="${CHUNK_ROWS:-1000000}"      # rows per table.append -> one data file each
ROW_GROUP_ROWS="${ROW_GROUP_ROWS:-131072}" # write.parquet.row-group-limit

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
DONE="$DIR/.prepared"
if [[ -f "$DONE" && "$(cat "$DONE")" == "sf=$SF chunk=$CHUNK_ROWS rg=$ROW_GROUP_ROWS" ]]; then
    echo "prepare_tpch: $DIR already holds tpch.lineitem at SF $SF"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "prepare_tpch: creating $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pyiceberg, pyarrow, sqlalchemy' 2>/dev/null || [[ ! -x "$VENV/bin/tpchgen-cli" ]]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        'tpchgen-cli>=2' 'pyiceberg[sql-sqlite,pyarrow]==0.12.*' 'pyarrow'
fi

RAW="$DIR/tpchgen"
if [[ ! -f "$RAW/lineitem.parquet" || ! -f "$RAW/.sf" || "$(cat "$RAW/.sf")" != "$SF" ]]; then
    echo "prepare_tpch: generating lineitem at SF $SF"
    rm -rf "$RAW"
    mkdir -p "$RAW"
    "$VENV/bin/tpchgen-cli" parquet -s "$SF" -T lineitem -o "$RAW" -q
    echo "$SF" > "$RAW/.sf"
fi

rm -rf "$DIR/warehouse" "$DIR/catalog.db" "$DONE"
echo "prepare_tpch: writing tpch.lineitem into $DIR"
"$VENV/bin/python" - "$DIR" "$RAW/lineitem.parquet" "$CHUNK_ROWS" "$ROW_GROUP_ROWS" <<'PY'
import sys, time
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog

out, raw, chunk_rows, rg_rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src = pq.ParquetFile(raw)

def plain(t: pa.DataType) -> pa.DataType:
    # tpchgen writes Utf8View; Iceberg strings are plain Utf8.
    return pa.string() if pa.types.is_string_view(t) or pa.types.is_large_string(t) else t

schema = pa.schema([pa.field(f.name, plain(f.type), nullable=f.nullable) for f in src.schema_arrow])
catalog = SqlCatalog("default", uri=f"sqlite:///{out}/catalog.db", warehouse=f"file://{out}/warehouse")
catalog.create_namespace_if_not_exists("tpch")
table = catalog.create_table(
    "tpch.lineitem",
    schema=schema,
    properties={
        "write.parquet.row-group-limit": str(rg_rows),
        "write.parquet.compression-codec": "zstd",
        "write.target-file-size-bytes": str(1 << 30),
    },
)
start, rows, files = time.time(), 0, 0
pending = []
def flush():
    global rows, files, pending
    if pending:
        t = pa.Table.from_batches(pending).cast(schema)
        table.append(t)
        rows += t.num_rows
        files += 1
        pending = []
n = 0
for batch in src.iter_batches(batch_size=65536):
    pending.append(batch)
    n += batch.num_rows
    if n >= chunk_rows:
        flush()
        n = 0
flush()
table = catalog.load_table("tpch.lineitem")
data_files = list(table.inspect.files().column("file_path"))
print(f"prepare_tpch: {rows} rows in {len(data_files)} data files ({files} appends) in {time.time() - start:.0f}s")
assert rows == src.metadata.num_rows, (rows, src.metadata.num_rows)
PY
echo "sf=$SF chunk=$CHUNK_ROWS rg=$ROW_GROUP_ROWS" > "$DONE"
echo "prepare_tpch: done: catalog sqlite:///$DIR/catalog.db, warehouse file://$DIR/warehouse"
