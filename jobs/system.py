"""Housekeeping and probes: the stale-``queued`` sweep, pruning finished jobs and expired revocations, and
no-op/sleep jobs that operators (and the benchmark) use to check a deployment end to end."""
from __future__ import annotations

import time

import dramatiq

import workers.broker  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import current, service
from shared.services import sessions
from workers.supervisor import DEFAULT_TIME_LIMIT


@dramatiq.actor(actor_name="system.noop", queue_name="default", max_retries=0, time_limit=10_000)
def noop(job_id: str, value=None):
    """Do nothing; the result is ``value``."""
    return value


@dramatiq.actor(actor_name="system.sleep", queue_name="default", max_retries=0, time_limit=3_600_000)
def sleep(job_id: str, seconds: float = 1.0, steps: int = 10):
    """Sleep ``seconds`` in ``steps``, reporting progress; stops at once when cancelled."""
    for step in range(steps):
        time.sleep(seconds / steps)
        current.progress((step + 1) / steps, f"step {step + 1} of {steps}")
    return {"slept": seconds}


@dramatiq.actor(actor_name="system.resend_stale_jobs", queue_name="default", max_retries=0)
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


@dramatiq.actor(actor_name="system.prune_jobs", queue_name="default", max_retries=0)
def prune_jobs() -> int:
    """Delete finished jobs older than ``JOB_RETENTION_DAYS``."""
    with session_scope() as session:
        return service.prune_finished(session)


@dramatiq.actor(actor_name="system.prune_revoked_tokens", queue_name="default", max_retries=3)
def prune_revoked_tokens() -> int:
    """Forget revocations of tokens that have expired anyway."""
    with session_scope() as session:
        return sessions.prune_revoked(session)
