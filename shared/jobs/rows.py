"""Job rows written (or looked up) in one autocommitted round trip each: the enqueue INSERT and the worker's updates.

A statement through an ORM session on a pooled connection costs a pre-ping, ``BEGIN``, the statement
and ``COMMIT``: four round trips. On the hot path (enqueue, claim, outcome) one statement is the whole
transaction, so these run on autocommit engines without pre-ping (when the database dropped a
connection, the pool is replaced and the statement retried once). Each statement shape is compiled once
per engine to the driver's SQL and run on the pooled DBAPI connection with the column types' own bind
processors: SQLAlchemy's per-execution machinery (connection wrapper, execution context, result object)
costs more CPU per statement than the driver's whole round trip.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Insert, Select, Update, bindparam, create_engine, insert, or_, select, update
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


@dataclass(frozen=True)
class Compiled:
    """A statement as the driver runs it: its SQL, the order of positional parameters (None for named
    ones), the values of its literal parameters and the bind processors of those that have one."""

    sql: str
    positions: tuple[str, ...] | None
    literals: dict
    processors: dict[str, Callable]

    def parameters(self, values: dict) -> dict | tuple:
        values.update(self.literals)
        for name, process in self.processors.items():
            if name in values:
                values[name] = process(values[name])
        return values if self.positions is None else tuple(values[name] for name in self.positions)


@lru_cache(maxsize=None)
def _compiled(statement: Insert | Update | Select, durable: bool) -> Compiled:
    dialect = engine(durable).dialect
    compiled = statement.compile(dialect=dialect)
    literals, processors = {}, {}
    for bind, name in compiled.bind_names.items():
        if not bind.required:
            literals[name] = bind.value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    positions = tuple(compiled.positiontup) if compiled.positiontup else None
    return Compiled(compiled.string, positions, literals, processors)


def _execute(statement: Insert | Update | Select, values: dict, durable: bool,
             answer: Callable[[Any], Any] = lambda cursor: cursor.rowcount) -> Any:
    """Run ``statement``; ``answer(cursor)`` (by default the number of rows it changed)."""
    compiled = _compiled(statement, durable)
    parameters = compiled.parameters(values)
    dialect = engine(durable).dialect

    def run() -> Any:
        connection = engine(durable).raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(compiled.sql, parameters)
            result = answer(cursor)
            connection.commit()  # sqlite3 opens a transaction for DML; an autocommit psycopg has none
            return result
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, connection.dbapi_connection, None)
            if lost:
                # The database dropped this connection, so most likely every pooled one (a restart, an
                # administrator): a new pool, or the retry below would meet the next dead one.
                connection.invalidate(error)
                engine(durable).dispose()
            raise DBAPIError.instance(compiled.sql, parameters, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=lost, dialect=dialect) from error
        finally:
            connection.close()

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


EXISTS = select(JOBS.c.id).where(JOBS.c.id == bindparam("job_id"))


def job_exists(job_id: str) -> bool:
    """Whether the job's row is there (committed)."""
    return _execute(EXISTS, {"job_id": job_id}, durable=False, answer=lambda cursor: cursor.fetchone() is not None)


@lru_cache(maxsize=None)
def _update_statement(columns: tuple[str, ...], claim: bool) -> Update:
    """``UPDATE job SET <columns>, updated_at WHERE id = :job_id`` with bound values. A ``claim`` also
    counts the attempt and only takes a queued job, the one this delivery already runs, or one its sender
    inserted claimed that no delivery has recorded itself on (``shared.jobs.enqueue.CLAIM_AHEAD``)."""
    values = {name: bindparam(f"new_{name}", type_=JOBS.c[name].type) for name in (*columns, "updated_at")}
    statement = update(JOBS).where(JOBS.c.id == bindparam("job_id"))
    if claim:
        statement = statement.where(or_(JOBS.c.status == "queued", (JOBS.c.status == "running") & or_(
            JOBS.c.message_id == values["message_id"], JOBS.c.message_id.is_(None))))
        values["attempts"] = JOBS.c.attempts + 1
    return statement.values(values)


def update_job(job_id: str, *, claim: bool = False, **values) -> int:
    """Set ``values`` on the job's row (asynchronous commit); the number of rows changed (0 or 1)."""
    params = {"job_id": job_id, "new_updated_at": now(), **{f"new_{name}": value for name, value in values.items()}}
    return _execute(_update_statement(tuple(sorted(values)), claim), params, durable=False)
