from __future__ import annotations

import random

import pytest

from tests.precommit import hook_repo, pre_commit_home, project  # noqa: F401 - fixtures


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """A generator seeded by the test's name: reproducible, different per test."""
    return random.Random(request.node.nodeid)
