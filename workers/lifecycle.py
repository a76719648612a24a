"""Job status, result, error and events around every message that carries a ``job_id``.

Before the actor runs, the delivery claims its job (``queued`` → ``running``, or the same delivery
again after a worker died mid-job); a message whose job is already taken, finished or cancelled is
skipped, so duplicates never run twice. A message may go out while its job's row is being inserted
(``shared.jobs.service``), so a delivery that finds no row yet tries again for up to ``JOB_ROW_WAIT_MS``
(5 s) before skipping it (its sender died in between). The ``running`` event is held and goes out with
the job's next events (see ``shared.jobs.current``). A message with the ``claim_ahead`` option
(``shared.jobs.service.CLAIM_AHEAD``) runs its actor at once while a helper thread claims the job; the
job's first event waits for the claim, and a delivery whose claim fails stops there (``NotClaimed``)
and leaves no trace, as a skipped one. Afterwards the outcome goes to the row first and
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
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import redis
import requests
from dramatiq.middleware import Middleware, SkipMessage
from dramatiq.middleware.time_limit import TimeLimitExceeded

from shared.errors import ServiceError, UpstreamError
from shared.jobs import current, events, results, service
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
        return {"type": "upstream", "message": exception.detail, "status": exception.status}
    if isinstance(exception, ServiceError):
        return {"type": type(exception).__name__, "message": exception.detail, "status": exception.status}
    if isinstance(exception, redis.RedisError):
        return {"type": "unavailable", "message": "The queue (Redis) could not be reached.", "status": 503}
    if isinstance(exception, (requests.Timeout, TimeoutError)):
        return {"type": "upstream", "message": "The upstream service timed out.", "status": 504}
    if isinstance(exception, TRANSIENT):
        return {"type": "upstream", "message": "The upstream service could not be reached.", "status": 502}
    return {"type": "internal", "message": "The job failed unexpectedly.", "status": 500,
            "detail": "".join(traceback.format_exception(exception, limit=20))[-4000:]}


def _failed(job_id: str, error: dict) -> Events:
    """End the job as failed: the whole ``error`` on the row; the events announcing it carry the public part
    (no ``detail``)."""
    update_job(job_id, status="failed", error=error, finished_at=now())
    public = {name: value for name, value in error.items() if name != "detail"}
    return [("error", public), ("status", {"status": "failed"})]


@lru_cache(maxsize=1)
def _claims() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="job-claim")


class JobLifecycle(Middleware):
    def before_process_message(self, broker, message):
        job_id = message.kwargs.get("job_id")
        if job_id is None:
            return
        delivery, held = message.options.get("redis_message_id"), [("status", {"status": "running"})]
        if message.options.get(service.CLAIM_AHEAD):
            job = current.RunningJob(job_id=job_id, held=held)
            current.bind(job)  # first: a claim that fails at once interrupts a thread that holds the job
            job.claim_ahead(_claims().submit(self._claim_ahead, message, job_id, delivery))
            return
        if not self.claim(job_id, delivery):
            log.info("skipping message %s: job %s is not waiting to run", message.message_id, job_id)
            raise SkipMessage()
        current.bind(current.RunningJob(job_id=job_id, held=held))

    def _claim_ahead(self, message, job_id: str, delivery: str | None) -> bool:
        try:
            claimed = self.claim(job_id, delivery)
        except Exception:
            log.exception("claiming job %s failed; the sweep sends it again", job_id)
            service.forget_sent(job_id)
            raise
        if not claimed:
            log.info("stopping message %s: job %s is not waiting to run", message.message_id, job_id)
        return claimed

    @staticmethod
    def claim(job_id: str, delivery: str | None, row_wait: float | None = None) -> bool:
        """Claim the job; while its row is not there yet, try again (0.5, 1, 2 ... 50 ms apart) for up to
        ``row_wait`` seconds (default ``JOB_ROW_WAIT_MS``)."""
        if row_wait is None:
            row_wait = get_job_settings().row_wait_ms / 1000
        deadline, pause = time.monotonic() + row_wait, 0.0005

        def attempt() -> bool:
            return bool(update_job(job_id, claim=True, status="running", message_id=delivery, started_at=now()))

        while not attempt():
            if job_exists(job_id):
                return attempt()  # inserted since the last try, or there all along and not waiting to run
            if time.monotonic() > deadline:
                service.forget_sent(job_id)  # should the row still come, the sweep sends the job again
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True

    def after_process_message(self, broker, message, *, result=None, exception=None):
        job = current.running()
        current.bind(None)
        if job is None or job.job_id is None or not job.holds():
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
            update_job(job.job_id, status="cancelled", finished_at=now())
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
            update_job(job.job_id, status="succeeded", result=value, result_path=path, progress=1.0,
                       finished_at=now())
            return [("result", {"result": value, "stored": path is not None}), ("status", {"status": "succeeded"})]
        service.mark_sent(job.job_id)  # Retries has queued the next attempt (delayed by its backoff)
        error = describe(exception)
        update_job(job.job_id, status="queued", error=error, progress_message=f"Retrying: {error['message']}")
        return [("progress", {"progress": 0.0, "message": f"Retrying: {error['message']}"})]
