"""Test settings: every run gets its own PostgreSQL database and its own Redis key prefix.

Data tests run on real PostgreSQL and real Redis (127.0.0.1); ``TEST_PG_ADMIN_URL`` and
``TEST_REDIS_URL`` point elsewhere. The environment is set before any Switchyard module reads it,
so worker processes started by tests inherit the same settings.
"""
from __future__ import annotations

import os
import tempfile
import uuid

import psycopg
import pytest

RUN_ID = uuid.uuid4().hex[:10]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = f"sy_test_{RUN_ID}"
DATA_DIR = tempfile.mkdtemp(prefix=f"switchyard-test-{RUN_ID}-")

os.environ.update(
    DATA_DIR=DATA_DIR,
    DATABASE_URL=PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{TEST_DB}",
    REDIS_URL=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    REDIS_PREFIX=f"sytest-{RUN_ID}",
    WEBUI_SECRET_KEY=f"test-secret-{RUN_ID}-0123456789abcdef0123456789",
)

pytest_plugins = ["tests.helpers"]


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _delete_run_keys() -> None:
    from shared.redis_client import get_redis

    r = get_redis()
    keys = list(r.scan_iter(f"{os.environ['REDIS_PREFIX']}:*", count=1000))
    if keys:
        r.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def database():
    """Create this run's database, migrate it to head, and drop it (and the run's Redis keys, such as the
    heartbeats the last workers wrote as they stopped) afterwards."""
    _admin(f'CREATE DATABASE "{TEST_DB}"')
    from shared.cli import migrate

    migrate()
    yield
    from shared.db import get_engine

    get_engine().dispose()
    _admin(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    _delete_run_keys()


def reset_state() -> None:
    """Empty every table and delete the keys under this run's Redis prefix."""
    from sqlalchemy import text

    from shared.db import get_engine
    from shared.models import Base

    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    _delete_run_keys()


@pytest.fixture(autouse=True)
def clean_state(database):
    """Each test starts with empty tables and no keys under this run's Redis prefix."""
    yield
    reset_state()
