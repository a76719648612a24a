"""What every session of ours does around its transactions: one list, installed on our sessionmaker by
``shared.db.get_sessionmaker`` (never on SQLAlchemy's ``Session`` class, so a session made elsewhere, a
test's or a tool's, runs none of them).

- ``enqueue``: whether a transaction used the database (a job sent from it waits for its commit);
- ``auth_cache``: the users a transaction changes are announced to every process's credential cache;
- ``connections``: a committed change of the LLM connections tells every process to re-read them;
- ``vectors``: the collections a commit wrote are announced to every process's vector cache;
- ``evaluations``: a committed change of feedback moves the leaderboard's version on.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from shared.jobs import enqueue
from shared.rag import vectors
from shared.services import auth_cache, evaluations
from shared.services.llm import connections

INSTALLERS: tuple[Callable[[sessionmaker[Session]], None], ...] = (
    enqueue.install_listeners, auth_cache.install_listeners, connections.install_listeners,
    vectors.install_listeners, evaluations.install_listeners,
)


def install(factory: sessionmaker[Session]) -> None:
    for install_listeners in INSTALLERS:
        install_listeners(factory)
