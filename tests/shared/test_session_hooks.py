"""Session hooks are installed on our sessionmaker, in one place, and nowhere else."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from shared import session_hooks
from shared.db import get_engine, get_sessionmaker
from shared.jobs import enqueue
from shared.rag import vectors
from shared.services import auth_cache, evaluations
from shared.services.llm import connections

HOOKS = [
    (enqueue, "after_begin", "_began_in_database"), (enqueue, "after_transaction_end", "_transaction_ended"),
    (auth_cache, "before_flush", "_before_flush"), (auth_cache, "after_commit", "_after_commit"),
    (auth_cache, "after_rollback", "_after_rollback"), (connections, "after_commit", "_announce_change"),
    (vectors, "after_commit", "_bump_versions"), (vectors, "after_rollback", "_forget_versions"),
    (evaluations, "after_commit", "_bump_version"), (evaluations, "after_rollback", "_forget_change"),
]


def test_every_hook_is_on_our_sessionmaker_and_none_on_the_session_class():
    ours = get_sessionmaker()
    for module, name, function in HOOKS:
        listener = getattr(module, function)
        assert event.contains(ours, name, listener), f"{module.__name__}.{function} is not installed"
        assert not event.contains(Session, name, listener), f"{module.__name__}.{function} is on every Session"
    assert len(session_hooks.INSTALLERS) == len({module for module, _, _ in HOOKS})


def test_a_session_from_another_factory_runs_none_of_them():
    with sessionmaker(bind=get_engine())() as plain:
        plain.connection()  # begins a transaction in the database
        assert enqueue.IN_DATABASE not in plain.info
    with get_sessionmaker()() as ours:
        ours.connection()
        assert ours.info[enqueue.IN_DATABASE] is True
