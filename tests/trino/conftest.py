"""Fixtures of the Trino suite (see trino_env.py for the environment they start)."""

from __future__ import annotations

import pytest

from trino_env import Env, start_env


@pytest.fixture(scope="session")
def trino_env(arrow_cache_bin, tmp_path_factory) -> Env:
    try:
        env = start_env(tmp_path_factory.mktemp("trino"))
    except Exception as e:
        pytest.fail(f"the Trino test environment did not start: {e}", pytrace=False)
    yield env
    env.stop()


@pytest.fixture(autouse=True)
def _trino_survives(request):
    """Every test leaves Trino and the nodes running (bad input must not take them down)."""
    yield
    if "trino_env" in request.fixturenames:
        env = request.getfixturevalue("trino_env")
        assert env.trino.alive(), f"Trino died{env.trino.log_hint()}"
        env.node.assert_alive()
        env.node2.assert_alive()
