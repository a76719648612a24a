"""Job rows written in one autocommitted round trip each: the enqueue INSERT and the worker's updates.

A statement through an ORM session on a pooled connection costs a pre-ping, ``BEGIN``, the statement
and ``COMMIT``: four round trips. On the hot path (enqueue, claim, outcome) one statement is the whole
transaction, so these run on autocommit engines without pre-ping (a connection the database dropped is
retried once) and with statements built once per shape, so SQLAlchemy compiles each once.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, Executable, Update, bindparam, create_engine, insert, or_, update
from sqlalchemy.exc import DBAPIError

from shared.config import get_settings
from shared.db import get_engine
from shared.models.base import now
from shared.models.job import Job

JOBS = Job.__table__
POOL = {"pool_size": 8, "max_overflow": 0}
"""At most 8 connections per engine and process, however many threads share it (a statement holds one
for a single round trip; no overflow, whose connections would be reopened each time)."""
ASYNC_COMMIT = {"options": "-c synchronous_commit=off"}
"""For the worker's updates: PostgreSQL acknowledges a claim or an outcome before flushing it to disk.
Each stays atomic and consistent, but a *database* crash may lose the last few hundred ms of them, which
the sweep reconciles (a lost claim is claimed again by the redelivered message; a lost outcome ends as
``lost``). The enqueue INSERT stays a durable commit."""


@lru_cache(maxsize=2)
def engine(durable: bool = True) -> Engine:
    url = get_settings().database_url
    if url.startswith("sqlite"):
        return get_engine().execution_options(isolation_level="AUTOCOMMIT")
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                         connect_args={} if durable else ASYNC_COMMIT, **POOL)


def _execute(statement: Executable, params: dict, durable: bool) -> int:
    def run() -> int:
        with engine(durable).connect() as conn:
            return conn.execute(statement, params).rowcount

    try:
        return run()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        return run()  # the database dropped a pooled connection (restart, idle timeout): once more


INSERT = insert(JOBS)


def row(job: Job) -> dict:
    """The row of a new job whose every column is set on the object."""
    return {column.key: getattr(job, column.key) for column in JOBS.columns}


def insert_job(job: Job) -> None:
    """Insert ``job``'s row, committed durably."""
    _execute(INSERT, row(job), durable=True)


@lru_cache(maxsize=None)
def _update_statement(columns: tuple[str, ...], claim: bool) -> Update:
    """``UPDATE job SET <columns>, updated_at WHERE id = :job_id`` with bound values. A ``claim`` also
    counts the attempt and only takes a queued job, or the one this delivery already runs."""
    values = {name: bindparam(f"new_{name}", type_=JOBS.c[name].type) for name in (*columns, "updated_at")}
    statement = update(JOBS).where(JOBS.c.id == bindparam("job_id"))
    if claim:
        statement = statement.where(or_(JOBS.c.status == "queued", (JOBS.c.status == "running")
                                        & (JOBS.c.message_id == values["message_id"])))
        values["attempts"] = JOBS.c.attempts + 1
    return statement.values(values)


def update_job(job_id: str, *, claim: bool = False, **values) -> int:
    """Set ``values`` on the job's row (asynchronous commit); the number of rows changed (0 or 1)."""
    params = {"job_id": job_id, "new_updated_at": now(), **{f"new_{name}": value for name, value in values.items()}}
    return _execute(_update_statement(tuple(sorted(values)), claim), params, durable=False)
