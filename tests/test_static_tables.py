"""Tables served straight from a metadata.json (no catalog), as a user of `storage.iceberg.tables`
would configure them; results equal pyiceberg's read of the same metadata."""

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from support import tables as T
from support.compare import assert_same_rows


@pytest.fixture
def static_node(node_factory, local_wh):
    table = local_wh.table(T.PART_DAY)
    node = node_factory("static", storage={"iceberg": {"tables": {"static.days": table.metadata_location}}})
    node.start()
    return node, table


def test_table_from_metadata_file(static_node):
    node, table = static_node
    expected = T.oracle(table)
    _, got = node.scan({"table": "static.days"})
    assert_same_rows(got, expected, context="static metadata.json")
    # The SQL path sees the same table under the configured name.
    rows = node.flight_client().do_get(flight.Ticket(b"SELECT count(*) AS n FROM static.days")).read_all()
    assert rows.column("n")[0].as_py() == expected.num_rows


def test_unknown_static_table_is_not_found(static_node):
    node, _ = static_node
    # pyarrow raises NotFound as ArrowKeyError.
    with pytest.raises(pa.ArrowKeyError) as info:
        node.scan({"table": "static.nope"})
    assert "static.nope" in str(info.value)
