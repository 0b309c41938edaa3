"""Shared fixtures: warehouses written with pyiceberg, a moto S3 server, and arrow-cache nodes.

Session-scoped where sharing is safe: tables are written once and never modified while a node
serves them (test_bad_input damages and restores only test.corrupt, which nothing else reads).
Tests that need a fresh or differently configured node use `node_factory`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `support` importable however pytest is run

try:
    from support import s3 as s3mod  # noqa: E402
    from support import tables as T  # noqa: E402
    from support.node import Node, binary  # noqa: E402
except ImportError:
    # Without the suites' venv (tests/setup_env.sh) only the tests that need neither a node nor
    # its packages run, e.g. `python3 -m pytest tests/test_protocol.py`; the other test modules
    # fail at their own imports.
    pass

S3_BUCKET = "warehouse"


def pytest_configure(config):
    # Keep the last run's warehouses, configs and node logs under tests/.work (git-ignored)
    # so a failure can be inspected; pytest empties it at the start of each run.
    if config.option.basetemp is None:
        config.option.basetemp = str(Path(__file__).parent / ".work")


@pytest.fixture(scope="session")
def arrow_cache_bin() -> str:
    try:
        return binary()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def local_wh(tmp_path_factory) -> T.Warehouse:
    """The standard tables in a file:// warehouse with a SQLite catalog."""
    wh = T.local_warehouse(tmp_path_factory.mktemp("local"))
    wh.evolution_snapshots = T.write_standard_tables(wh)
    return wh


@pytest.fixture(scope="session")
def local_node(arrow_cache_bin, local_wh, tmp_path_factory) -> Node:
    node = Node(tmp_path_factory.mktemp("local_node"), storage=local_wh.node_storage_config(),
                name="local")
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def moto(tmp_path_factory) -> s3mod.S3Server:
    server = s3mod.start_moto(tmp_path_factory.mktemp("moto"))
    server.create_bucket(S3_BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_wh(moto, tmp_path_factory) -> T.Warehouse:
    """A subset of the tables with data and metadata in S3 (moto); catalog in SQLite."""
    wh = T.s3_warehouse(tmp_path_factory.mktemp("s3"), moto.endpoint, S3_BUCKET,
                        s3mod.ACCESS_KEY, s3mod.SECRET_KEY, s3mod.REGION)
    T.write_all_types(wh)
    T.write_part_identity(wh)
    T.write_evolution(wh)
    return wh


@pytest.fixture(scope="session")
def s3_node(arrow_cache_bin, s3_wh, tmp_path_factory) -> Node:
    node = Node(tmp_path_factory.mktemp("s3_node"), storage=s3_wh.node_storage_config(),
                name="s3")
    node.start()
    yield node
    node.stop()


@pytest.fixture
def node_factory(arrow_cache_bin, tmp_path):
    """Make nodes with custom settings; all are stopped after the test."""
    nodes = []

    def make(name: str = "node", **kwargs) -> Node:
        node = Node(tmp_path / name, name=name, **kwargs)
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.stop()


@pytest.fixture(autouse=True)
def _shared_nodes_survive(request):
    """Bad input must never crash a node: check the shared nodes after every test using them."""
    yield
    for name in ("local_node", "s3_node"):
        if name in request.fixturenames:
            request.getfixturevalue(name).assert_alive()
