"""The enqueue protocol: a job's durable row and its Dramatiq message, sent by actor name.

Invariants (told in full in ``docs/job-internals.md``):

- ``enqueue`` returns only once the row is committed and the message is in Redis; if Redis refuses, the
  row records the job as failed and the error propagates.
- The caller's own uncommitted changes commit with the row, before the message leaves.
- With nothing else to commit, the INSERT and the message go out together (one from a helper thread),
  the INSERT first, or the message first for a job its sender claims (``CLAIM_AHEAD``); a delivery that
  overtakes the INSERT waits for the row (``workers.lifecycle``).
- A row whose message never left stays ``queued`` and is sent again by the sweep (``service.resend_stale``)
  unless its sent-marker says the message is in Redis; a delivery runs a job only if it can claim it, so
  a duplicate message is skipped.

Senders go through the job catalog (``shared.jobs.catalog.send``), which names the actor and its queue.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import redis
from dramatiq import Message
from sqlalchemy import event, update
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from shared import logs
from shared.jobs import broker, events, rows
from shared.jobs.queues import QUEUES
from shared.models.base import new_id, now
from shared.models.job import ACTIVE, Job
from shared.redis_client import execute_loading_scripts, get_redis, key

log = logging.getLogger(__name__)

CLAIM_AHEAD = "claim_ahead"
"""Job option: the job's row is inserted already claimed (``running``, one attempt) for the first delivery
of the message sent with it (``SENT_CLAIMED``), which runs without a claim of its own: a worker starts it
with no database round trip (``workers.lifecycle``), and its sender sends the message before the INSERT.
Such a job counts as running from the moment it is sent, and one whose message Redis lost before any
worker took it ends as ``lost`` (``service.fail_lost``) instead of being sent again; a delivery whose
sender died before the INSERT runs for nothing (its events reach no one). So only for jobs whose work has
no effect beyond its answer, for someone waiting for it: a model's reply, embeddings, listings."""
SENT_CLAIMED = "sent_claimed"
"""Message option: the job's row was inserted claimed for this message's first delivery."""
SENT_TTL = 24 * 3600
"""After a day in a queue a job's message counts as lost (a duplicate is harmless: it cannot claim the job)."""
REQUEST_ID = "request_id"
"""Job option: the id of the request (or of the job's sender's request) that started it; its logs carry it."""
UNAVAILABLE = {"type": "unavailable", "message": "The queue (Redis) could not be reached.", "status": 503}
"""The error of a job whose message Redis refused."""


def message_for(job: Job, *, sent_claimed: bool = False) -> Message:
    """The job's Dramatiq message: its actor called as ``actor(job_id=<id>, **payload)``."""
    options = {**(job.options or {}), SENT_CLAIMED: True} if sent_claimed else dict(job.options or {})
    return Message(
        queue_name=job.queue, actor_name=job.actor, args=(),
        kwargs={**(job.payload or {}), "job_id": job.id}, options=options, message_id=job.id,
    )


def enqueue(session: Session, *, actor: str, queue: str, kind: str, owner_id: str | None, payload: dict,
            related_type: str | None = None, related_id: str | None = None, options: dict | None = None,
            parent_id: str | None = None, job_id: str | None = None, resend_later: bool = False) -> Job:
    """Send the message to ``actor`` (by name) on ``queue`` and write the job row (committed; in which
    order, see the module's docstring).

    ``options`` are Dramatiq message options (``time_limit`` ms, ``max_retries`` ...). ``job_id``
    (default: a new one) lets the caller record the id in its own rows in the same transaction, before
    any worker can see the job. ``resend_later``: should Redis refuse the message, the row stays ``queued``
    for the stale-job sweep to send again, and the caller goes on (a job that another job leaves behind,
    which must not fail its sender); otherwise the row records the job as failed and the error is raised.
    """
    job = _new_job(actor=actor, queue=queue, kind=kind, owner_id=owner_id, payload=payload,
                   related_type=related_type, related_id=related_id, options=options, parent_id=parent_id,
                   job_id=job_id)
    claimed = job.status == "running"
    if session.info.get(IN_DATABASE) or session.new or session.dirty or session.deleted:
        # The caller's own changes commit with the row, before the message is sent.
        session.execute(rows.INSERT, rows.row(job))
        _attach(session, job)
        commit_keeping_state(session)
        _notify_send(job)
        send_committed(session, job, resend_later)
        return job
    _notify_send(job)
    # Nothing else to commit: the INSERT is the whole transaction.
    if _overlapping.acquire(blocking=False):
        try:
            _send_and_insert(session, job, message_first=claimed, resend_later=resend_later)
        finally:
            _overlapping.release()
    else:
        # Other enqueues are under way here: a worker would often overtake the INSERT and have to claim
        # again, so the row goes first.
        rows.insert_job(job)
        _attach(session, job)
        send_committed(session, job, resend_later)
    return job


def _new_job(*, actor: str, queue: str, kind: str, owner_id: str | None, payload: dict, related_type: str | None,
             related_id: str | None, options: dict | None, parent_id: str | None, job_id: str | None) -> Job:
    """A new job's row, every column set (``queued``, or ``running`` when its sender claims it)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; one of {', '.join(QUEUES)}")
    if "job_id" in payload:
        raise ValueError("payload must not contain job_id")
    stamp, claimed = now(), bool((options or {}).get(CLAIM_AHEAD))
    if request_id := logs.request_id.get():
        options = {**(options or {}), REQUEST_ID: request_id}
    return Job(id=job_id or new_id(), actor=actor, queue=queue, kind=kind, owner_id=owner_id, payload=payload,
               options=options or {}, related_type=related_type, related_id=related_id, parent_id=parent_id,
               status="running" if claimed else "queued", progress=0.0, progress_message="",
               attempts=int(claimed), error=None, result=None, result_path=None, message_id=None,
               created_at=stamp, updated_at=stamp, started_at=stamp if claimed else None, finished_at=None)


def stage(session: Session, *, actor: str, queue: str, kind: str, owner_id: str | None, payload: dict,
          related_type: str | None = None, related_id: str | None = None, options: dict | None = None,
          job_id: str | None = None) -> Job:
    """Add a ``queued`` job's row to the caller's transaction, and send its message once that transaction
    commits (nothing if it rolls back): the job exists exactly when the caller's changes do (an event and the
    deliveries it causes). If Redis refuses the message then, the row stays ``queued`` and the stale-job sweep
    sends it; a process that dies between the commit and the send leaves the same to the sweep."""
    if (options or {}).get(CLAIM_AHEAD):
        raise ValueError("a staged job cannot be claimed by its sender")
    job = _new_job(actor=actor, queue=queue, kind=kind, owner_id=owner_id, payload=payload,
                   related_type=related_type, related_id=related_id, options=options, parent_id=None,
                   job_id=job_id)
    session.add(job)
    session.info.setdefault(STAGED, []).append(job)
    return job


def _send(job: Job) -> None:
    """Announce (``status: queued``) and send a new or retried job in one round trip. A job whose row says
    ``running`` here was inserted claimed for this message (``CLAIM_AHEAD``): it is not announced queued
    (its first event is its ``running``), which spares every web process one announcement per call."""
    claimed = job.status == "running"

    def build(pipe: redis.client.Pipeline) -> None:
        if not claimed:
            events.publish_many(job.id, [("status", {"status": "queued"})], pipe)
        broker.send(message_for(job, sent_claimed=claimed), pipe)
        mark_sent(job.id, pipe)

    # After a Redis restart this may send twice; a second delivery cannot claim the job.
    execute_loading_scripts(build, [events.publish_script(), broker.dispatch_script()])


def send_committed(session: Session, job: Job, resend_later: bool = False) -> None:
    """Send a job whose row is committed; if Redis refuses, see :func:`enqueue`'s ``resend_later``."""
    try:
        _send(job)
    except redis.RedisError as error:
        _unsent(session, job, error, resend_later)


def _unsent(session: Session, job: Job, error: redis.RedisError, resend_later: bool) -> None:
    if resend_later and job.status == "queued":
        log.warning("job %s stays queued until the sweep sends it again: %s", job.id, error)
        return
    _record_unsent(session, job)
    raise error


def _record_unsent(session: Session, job: Job) -> None:
    """Redis refused the message of a job whose row is committed: the row records the job as failed."""
    session.execute(update(Job).where(Job.id == job.id, Job.status.in_(ACTIVE)).values(
        status="failed", finished_at=now(), updated_at=now(), error=UNAVAILABLE))
    session.commit()


def _send_and_insert(session: Session, job: Job, *, message_first: bool, resend_later: bool) -> None:
    """The message and the INSERT go out together, one of them from a helper thread (a greenlet in the
    web, which runs once this one waits for its answer). ``message_first`` sends the message from this
    thread, before the INSERT is even built: for a job claimed by its sender, whose worker does not
    wait for the row before it starts. Otherwise the INSERT leaves first, so its row is usually in before
    a worker tries to claim it (each miss costs the worker another claim)."""
    helper = _helpers().submit(rows.insert_job if message_first else _send, job)
    own_error = None
    try:
        (_send if message_first else rows.insert_job)(job)
    except BaseException as error:  # noqa: BLE001 - raised below, once the helper is done
        own_error = error
    helper_error = helper.exception()
    send_error, insert_error = (own_error, helper_error) if message_first else (helper_error, own_error)
    if insert_error is not None:
        raise insert_error
    if isinstance(send_error, redis.RedisError):
        _unsent(session, job, send_error, resend_later)
    elif send_error is not None:
        raise send_error
    _attach(session, job)


_overlapping = threading.Semaphore(1)
"""Held by the one enqueue of a process whose message and INSERT go out together."""


@lru_cache(maxsize=1)
def _helpers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-enqueue")  # one such enqueue at a time


_send_observers: list[Callable[[str], None]] = []


def _notify_send(job: Job) -> None:
    for observer in _send_observers:
        observer(job.id)


def observe_sends(observer: Callable[[str], None]) -> None:
    """Call ``observer(job_id)`` just before each new job's message and first event go to Redis (the web
    starts following the job there: see ``web.streaming.relay``)."""
    if observer not in _send_observers:
        _send_observers.append(observer)


def _attach(session: Session, job: Job) -> None:
    """Let the session hold the inserted job as if it had loaded it (no read-back)."""
    make_transient_to_detached(job)
    session.add(job)


IN_DATABASE = "jobs.in_database"
"""``session.info`` key: the session's transaction has used a database connection (it may hold writes
or locks that must commit before a worker sees the job)."""


STAGED = "jobs.staged"
"""``session.info`` key: the jobs :func:`stage` added to the session's transaction, sent once it commits."""


def install_listeners(factory: sessionmaker) -> None:
    """Keep :data:`IN_DATABASE` on the factory's sessions, and send their staged jobs after each commit."""
    event.listen(factory, "after_begin", _began_in_database)
    event.listen(factory, "after_transaction_end", _transaction_ended)
    event.listen(factory, "after_commit", _send_staged)


def _send_staged(session: Session) -> None:
    for job in session.info.pop(STAGED, ()):
        _notify_send(job)
        try:
            _send(job)
        except redis.RedisError as error:
            log.warning("job %s stays queued until the sweep sends it again: %s", job.id, error)


def _began_in_database(session: Session, _transaction, _connection) -> None:
    session.info[IN_DATABASE] = True


def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(IN_DATABASE, None)
        session.info.pop(STAGED, None)  # rolled back (a commit has sent them already)


def commit_keeping_state(session: Session) -> None:
    """Commit without expiring the session's objects (a new job's columns are all set in Python:
    reading them back would be one more SELECT returning the same values)."""
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def sent_key(job_id: str) -> str:
    return key("job", job_id, "sent")


def mark_sent(job_id: str, pipe: redis.client.Pipeline | None = None) -> None:
    """Note that the job's message is in Redis (waiting, or delayed for a retry), so the sweep leaves it."""
    (pipe or get_redis()).set(sent_key(job_id), 1, ex=SENT_TTL)


def forget_sent(job_id: str) -> None:
    """Drop the job's sent-marker: the sweep may send it again."""
    get_redis().delete(sent_key(job_id))
