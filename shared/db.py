"""The SQLAlchemy engine and sessions, shared by web and workers."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, exc, update
from sqlalchemy.orm import Session, sessionmaker

from shared.config import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

OUTAGE_WAIT_SECONDS = 120.0
"""How long :func:`through_outage` keeps trying a write while the database cannot be reached."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    """The factory of every session, with :mod:`shared.session_hooks` installed: no session of ours runs
    without them, whichever process (web, worker, command) made it."""
    from shared import session_hooks  # the hooks' modules use this one: imported once, when first needed

    factory = sessionmaker(bind=get_engine(), expire_on_commit=False)
    session_hooks.install(factory)
    return factory


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_row_on_sqlite(session: Session, model: type, row_id: str) -> None:
    """Before reading a row ``with_for_update``: SQLite has no row locks (it ignores FOR UPDATE), so a no-op
    write takes the database's write lock first, and the read that follows sees the last committed row."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == row_id).values(id=model.id)
                        .execution_options(synchronize_session=False))


def unreachable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a restart, a failover, a locked SQLite
    file), as opposed to a statement it refused."""
    return isinstance(error, exc.OperationalError) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated)


def through_outage(write: Callable[[], T], what: str, seconds: float = OUTAGE_WAIT_SECONDS) -> T:
    """``write()``, tried again while the database cannot be reached, for up to ``seconds``: for the writes that
    record work already done (a reply's text, a job's outcome), which a short outage must not lose."""
    deadline, pause, warned = time.monotonic() + seconds, 0.25, False
    while True:
        try:
            return write()
        except exc.DBAPIError as error:
            if not unreachable(error) or time.monotonic() + pause > deadline:
                raise
            if not warned:
                log.warning("%s: the database cannot be reached; trying again for up to %.0f s (%s)",
                            what, seconds, str(error).splitlines()[0])
                warned = True
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
