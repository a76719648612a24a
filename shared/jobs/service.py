"""Jobs as a service: read, list, cancel and retry them; the sweep and pruning; the operators' probe
and stats (plain functions over a Session). Sending a job is ``shared.jobs.catalog.send``; the protocol
behind it is ``shared.jobs.enqueue``."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shared import messages
from shared.db import get_engine
from shared.errors import BadRequest, Conflict, NotFound
from shared.jobs import broker, catalog, events
from shared.jobs.config import get_job_settings
from shared.jobs.enqueue import mark_sent, message_for, send_committed, sent_key
from shared.jobs.queues import QUEUES
from shared.models.base import now
from shared.models.job import ACTIVE, FINISHED, STATUSES, Job
from shared.models.user import User
from shared.redis_client import get_redis, key

CANCEL_TTL = 24 * 3600


def cancel_key(job_id: str) -> str:
    return key("job", job_id, "cancel")


def _visible(job: Job | None, user: User) -> bool:
    return job is not None and (user.role == "admin" or job.owner_id == user.id)


def get_job(session: Session, job_id: str, user: User) -> Job:
    """The job if ``user`` owns it or is an admin; anyone else's is NotFound."""
    job = session.get(Job, job_id)
    if not _visible(job, user):
        raise NotFound(messages.NOT_FOUND)
    return job


def list_jobs(session: Session, user: User, *, status: str | None = None, kind: str | None = None,
              related_type: str | None = None, related_id: str | None = None,
              page: int = 1, limit: int = 50) -> tuple[list[Job], int]:
    """A page of the user's jobs (every job for admins), newest first, and the total."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f"Unknown status {status!r}; one of {', '.join(STATUSES)}.")
    query = select(Job)
    if user.role != "admin":
        query = query.where(Job.owner_id == user.id)
    for column, value in ((Job.status, status), (Job.kind, kind),
                          (Job.related_type, related_type), (Job.related_id, related_id)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Job.created_at.desc(), Job.id).offset((max(page, 1) - 1) * limit).limit(limit)
    ).all()
    return list(rows), total


def active_job_ids(session: Session, *, owner_id: str | None = None, related_type: str | None = None,
                   related_id: str | None = None) -> list[str]:
    query = select(Job.id).where(Job.status.in_(ACTIVE))
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
    if related_type is not None:
        query = query.where(Job.related_type == related_type, Job.related_id == related_id)
    return list(session.scalars(query.order_by(Job.created_at)).all())


def request_cancel(session: Session, job: Job) -> Job:
    """Cancel a job: a queued one never starts; a running one is stopped by its worker within a second."""
    if job.finished:
        return job
    finished = session.execute(
        update(Job).where(Job.id == job.id, Job.status == "queued")
        .values(status="cancelled", finished_at=now(), updated_at=now())
    ).rowcount
    session.commit()
    if finished:
        events.publish(job.id, "status", {"status": "cancelled"})
    else:
        get_redis().set(cancel_key(job.id), 1, ex=CANCEL_TTL)
    session.refresh(job)
    return job


def cancel(session: Session, job_id: str, user: User) -> Job:
    return request_cancel(session, get_job(session, job_id, user))


def retry(session: Session, job_id: str, user: User) -> Job:
    """Run a failed or cancelled job again (the owner's or an admin's dead letter)."""
    job = get_job(session, job_id, user)
    if job.status not in ("failed", "cancelled"):
        raise Conflict(f"Only failed or cancelled jobs can be retried; this one is {job.status}.")
    get_redis().delete(cancel_key(job.id), events.stream_key(job.id))
    job.status, job.progress, job.progress_message = "queued", 0.0, ""
    job.error, job.result, job.result_path, job.finished_at, job.message_id = None, None, None, None, None
    session.commit()
    send_committed(session, job)
    return job


def resend_stale(session: Session) -> int:
    """Send again the messages of jobs left ``queued`` for too long whose message is not known to be in
    Redis (the sender died before sending, or Redis lost its data)."""
    cutoff = now() - get_job_settings().stale_queued_after
    stale = session.scalars(
        select(Job).where(Job.status == "queued", Job.updated_at < cutoff).limit(1000)
    ).all()
    marks = get_redis().mget([sent_key(job.id) for job in stale]) if stale else []
    lost = [job for job, mark in zip(stale, marks) if not mark]
    for job in lost:
        job.updated_at = now()
        broker.send(message_for(job))
        mark_sent(job.id)
    session.commit()
    return len(lost)


def fail_lost(session: Session, time_limit_ms: Callable[[Job], int]) -> int:
    """Fail ``running`` jobs that outlived their time limit plus the redelivery timeout: their worker
    lost its database or Redis before it could record the outcome, and no delivery is left to run them."""
    margin = get_job_settings().redelivery_timeout_ms / 1000 + 60
    candidates = session.scalars(select(Job).where(Job.status == "running", Job.started_at < now() - margin)).all()
    lost = [job for job in candidates if job.started_at < now() - margin - time_limit_ms(job) / 1000]
    for job in lost:
        job.status, job.finished_at = "failed", now()
        job.error = {"type": "lost", "message": "The job's worker stopped reporting before it finished.",
                     "status": 500}
    session.commit()
    for job in lost:
        events.publish_many(job.id, [("error", job.error), ("status", {"status": "failed"})])
    return len(lost)


def prune_finished(session: Session) -> int:
    """Delete finished jobs older than the retention period."""
    cutoff = now() - get_job_settings().retention_days * 86400
    deleted = session.execute(
        delete(Job).where(Job.status.in_(FINISHED), Job.finished_at < cutoff)
    ).rowcount
    session.commit()
    return deleted


def record_progress(job_id: str, fraction: float, message: str) -> None:
    with get_engine().begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                     .values(progress=fraction, progress_message=message, updated_at=now()))


def start_probe(session: Session, user: User, seconds: float = 0.0) -> Job:
    """A no-op job, or with ``seconds`` a sleeping one, to check a deployment end to end."""
    if seconds:
        return catalog.send(session, catalog.SLEEP, catalog.Sleep(seconds=seconds), owner_id=user.id)
    return catalog.send(session, catalog.NOOP, catalog.Noop({"ok": True}), owner_id=user.id)


def stats(session: Session) -> dict:
    """For operators: jobs per status, and per queue the messages waiting, delayed and dead-lettered."""
    by_status = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    return {"jobs": {status: by_status.get(status, 0) for status in STATUSES},
            "queues": broker.queue_depths(QUEUES), "poisoned": broker.poisoned_count()}
