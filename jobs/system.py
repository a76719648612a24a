"""Housekeeping and probes: the stale-``queued`` sweep, pruning finished jobs and expired revocations, and
no-op/sleep jobs that operators (and the benchmark) use to check a deployment end to end."""
from __future__ import annotations

import time

import dramatiq

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog, current, service
from shared.services import sessions
from workers.supervisor import DEFAULT_TIME_LIMIT


@catalog.NOOP.actor
def noop(job_id: str, value=None):
    """Do nothing; the result is ``value``."""
    return value


@catalog.SLEEP.actor
def sleep(job_id: str, seconds: float = 1.0, steps: int = 10):
    """Sleep ``seconds`` in ``steps``, reporting progress; stops at once when cancelled."""
    for step in range(steps):
        time.sleep(seconds / steps)
        current.progress((step + 1) / steps, f"step {step + 1} of {steps}")
    return {"slept": seconds}


@catalog.RESEND_STALE_JOBS.actor
def resend_stale_jobs() -> dict:
    """Send again jobs whose message was never sent (their row stayed ``queued``), and fail running
    jobs whose outcome was lost."""
    with session_scope() as session:
        return {"resent": service.resend_stale(session), "lost": service.fail_lost(session, time_limit_ms)}


def time_limit_ms(job) -> int:
    """The job's time limit: its own option, else its actor's, else the supervisor's default."""
    broker = dramatiq.get_broker()
    options = broker.get_actor(job.actor).options if job.actor in broker.actors else {}
    return int((job.options or {}).get("time_limit") or options.get("time_limit") or DEFAULT_TIME_LIMIT)


@catalog.PRUNE_JOBS.actor
def prune_jobs() -> int:
    """Delete finished jobs older than ``JOB_RETENTION_DAYS``."""
    with session_scope() as session:
        return service.prune_finished(session)


@catalog.PRUNE_REVOKED_TOKENS.actor
def prune_revoked_tokens() -> int:
    """Forget revocations of tokens that have expired anyway."""
    with session_scope() as session:
        return sessions.prune_revoked(session)
