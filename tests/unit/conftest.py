"""Unit tests of pure functions and of one process's own code: no database, no Redis (they run with both down)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def database():
    """Nothing to create: these tests touch no database."""
    yield


@pytest.fixture
def clean_state():
    """Nothing to empty: these tests keep no state in the database or Redis."""
    yield
