"""Job status, result, error and events around every message that carries a ``job_id``.

Before the actor runs, the delivery claims its job (``queued`` → ``running``, or the same delivery
again after a worker died mid-job); a message whose job is already taken, finished or cancelled is
skipped, so duplicates never run twice. A message may go out while its job's row is being inserted
(``shared.jobs.enqueue``), so a delivery that finds no row yet tries again for up to ``JOB_ROW_WAIT_MS``
(5 s) before skipping it (its sender died in between). The first delivery of a message whose sender
inserted the row already claimed for it (``SENT_CLAIMED``, see ``shared.jobs.enqueue.CLAIM_AHEAD``)
does not claim: its actor starts with no database round trip. Only a first delivery can be one: a
retry counts its retries, and a redelivery (its worker died) comes no sooner than the redelivery
timeout after the message was sent; those claim as any delivery does (a row claimed by its sender has
no delivery recorded yet, and such a row is theirs to take over). The ``running`` event is held and
goes out with the job's next events (see ``shared.jobs.current``). Afterwards the outcome goes to the
row first (waiting for it, like a claim, when the job ended before its sender's INSERT was in) and
then, in the round trip of the message's ack or nack, to the event log: ``result`` + ``status:
succeeded``; ``error`` + ``status: failed``; ``status: cancelled``; or, when ``Retries`` scheduled
another attempt, back to ``queued``.

Must come before ``Retries`` in the middleware list (its ``after_`` hooks then run after theirs,
when ``message.failed`` tells whether the failure is final).
"""
from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable

import redis
import requests
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware, SkipMessage
from dramatiq.middleware.time_limit import TimeLimitExceeded

from shared.db import through_outage, unreachable
from shared.errors import ServiceError, UpstreamError
from shared.jobs import current, enqueue, events, results
from shared.jobs.config import get_job_settings
from shared.jobs.current import Events
from shared.jobs.rows import job_exists, update_job
from shared.models.base import now
from workers.retries import TRANSIENT

log = logging.getLogger(__name__)


def describe(exception: BaseException, time_limit_ms: int | None = None) -> dict:
    """The job's ``error``: ``{type, message, status}`` safe for its owner, plus ``detail`` (admins only)."""
    if isinstance(exception, TimeLimitExceeded):
        limit = f" ({time_limit_ms / 1000:g} s)" if time_limit_ms else ""
        return {"type": "time_limit", "message": f"The job exceeded its time limit{limit}.", "status": 504}
    if isinstance(exception, UpstreamError):
        error = {"type": "upstream", "message": exception.detail, "status": exception.status}
        return error if exception.retry_after is None else {**error, "retry_after": exception.retry_after}
    if isinstance(exception, ServiceError):
        return {"type": type(exception).__name__, "message": exception.detail, "status": exception.status}
    if isinstance(exception, redis.RedisError):
        return dict(enqueue.UNAVAILABLE)
    if unreachable(exception):
        return {"type": "unavailable", "message": "The database could not be reached.", "status": 503}
    if isinstance(exception, (requests.Timeout, TimeoutError)):
        return {"type": "upstream", "message": "The upstream service timed out.", "status": 504}
    if isinstance(exception, TRANSIENT):
        return {"type": "upstream", "message": "The upstream service could not be reached.", "status": 502}
    return {"type": "internal", "message": "The job failed unexpectedly.", "status": 500,
            "detail": "".join(traceback.format_exception(exception, limit=20))[-4000:]}


def _until_row(job_id: str, write: Callable[[], bool], row_wait: float | None = None) -> bool:
    """``write`` to the job's row; while the row is not there yet, again 0.5, 1, 2 ... 50 ms apart for up to
    ``row_wait`` seconds (default ``JOB_ROW_WAIT_MS``). False when the row is there and the write does not
    apply to it, or when it never came (its sender died before the INSERT; should it still come, the sweep
    sends the job again)."""
    if row_wait is None:
        row_wait = get_job_settings().row_wait_ms / 1000
    deadline, pause = time.monotonic() + row_wait, 0.0005
    while not write():
        if job_exists(job_id):
            return write()  # inserted since the last try, or there all along and the write does not apply
        if time.monotonic() > deadline:
            enqueue.forget_sent(job_id)
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True


def _update(job_id: str, **values) -> None:
    """Record on the job's row, once it is there (and once the database is back, after a short outage)."""
    through_outage(lambda: _until_row(job_id, lambda: bool(update_job(job_id, **values))), f"recording job {job_id}")


def _failed(job_id: str, error: dict) -> Events:
    """End the job as failed: the whole ``error`` on the row; the events announcing it carry the public part
    (no ``detail``)."""
    _update(job_id, status="failed", error=error, finished_at=now())
    public = {name: value for name, value in error.items() if name != "detail"}
    return [("error", public), ("status", {"status": "failed"})]


class JobLifecycle(Middleware):
    def before_process_message(self, broker, message):
        job_id = message.kwargs.get("job_id")
        if job_id is None:
            return
        if not self.sent_claimed(message) and not self.claim(job_id, message.options.get("redis_message_id")):
            log.info("skipping message %s: job %s is not waiting to run", message.message_id, job_id)
            raise SkipMessage()
        current.bind(current.RunningJob(job_id=job_id, held=[("status", {"status": "running"})]))

    @staticmethod
    def sent_claimed(message) -> bool:
        """The first delivery of a message whose job's row was inserted claimed for it (see the module
        docstring). Half the redelivery timeout leaves room for clocks that differ between hosts."""
        if not message.options.get(enqueue.SENT_CLAIMED) or message.options.get("retries"):
            return False
        return current_millis() - message.message_timestamp < get_job_settings().redelivery_timeout_ms / 2

    @staticmethod
    def claim(job_id: str, delivery: str | None, row_wait: float | None = None) -> bool:
        """Claim the job (see :func:`_until_row` for a row that is not there yet)."""
        return _until_row(job_id, lambda: bool(update_job(
            job_id, claim=True, status="running", message_id=delivery, started_at=now())), row_wait)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        job = current.running()
        current.bind(None)
        if job is None or job.job_id is None:
            return
        outcome = self._record(broker, message, job, result, exception)
        announced = job.take_held() + outcome
        # The events go with the message's ack (one round trip), after the row that they announce.
        broker.settle_with(lambda pipe: events.publish_many(job.job_id, announced, pipe), [events.publish_script()])

    def after_skip_message(self, broker, message):
        current.bind(None)

    @staticmethod
    def _record(broker, message, job: current.RunningJob, result, exception) -> Events:
        """Write the attempt's outcome on the row; the events that announce it."""
        # A stopped job ends as stopped even when its actor returned (its upstream read was cut short).
        if job.stop_reason == "cancelled" or isinstance(exception, current.JobCancelled):
            _update(job.job_id, status="cancelled", finished_at=now())
            return [("status", {"status": "cancelled"})]
        if job.stop_reason == "time_limit" or (exception is not None and message.failed):
            limit = message.options.get("time_limit") or broker.get_actor(message.actor_name).options.get("time_limit")
            return _failed(job.job_id, describe(TimeLimitExceeded() if job.stop_reason == "time_limit" else exception,
                                                limit))
        if exception is None:
            try:
                value, path = results.store(job.job_id, result)
            except (TypeError, ValueError) as error:
                return _failed(job.job_id, {"type": "internal", "message": "The job's result could not be stored.",
                                            "status": 500, "detail": str(error)})
            _update(job.job_id, status="succeeded", result=value, result_path=path, progress=1.0,
                    finished_at=now())
            return [("result", {"result": value, "stored": path is not None}), ("status", {"status": "succeeded"})]
        enqueue.mark_sent(job.job_id)  # Retries has queued the next attempt (delayed by its backoff)
        error = describe(exception)
        _update(job.job_id, status="queued", error=error, progress_message=f"Retrying: {error['message']}")
        return [("progress", {"progress": 0.0, "message": f"Retrying: {error['message']}"})]
