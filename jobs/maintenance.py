"""Housekeeping jobs."""
from __future__ import annotations

import dramatiq

import workers.broker  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.services import sessions


@dramatiq.actor(queue_name="default", max_retries=3)
def prune_revoked_tokens() -> int:
    """Forget revocations of tokens that have expired anyway."""
    with session_scope() as session:
        return sessions.prune_revoked(session)
