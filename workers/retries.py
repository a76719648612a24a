"""Dramatiq's Retries, applied only to transient failures."""
from __future__ import annotations

import redis
import requests
from dramatiq.middleware import Retries
from dramatiq.middleware.retries import Retry

from shared.db import unreachable
from shared.errors import UpstreamError
from shared.jobs import current
from shared.jobs.current import JobCancelled

TRANSIENT = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError,
             redis.ConnectionError, redis.TimeoutError)
"""Failures worth retrying: the upstream or our own Redis could not be reached in time."""


def is_transient(exception: BaseException) -> bool:
    """Worth retrying: connection failures, timeouts, the database out of reach, and upstream errors marked
    transient (429, 5xx)."""
    if isinstance(exception, UpstreamError):
        return exception.transient
    return isinstance(exception, TRANSIENT) or unreachable(exception)


class TransientRetries(Retries):
    """Retries with exponential backoff for transient failures; anything else fails at once.

    Cancelled jobs are neither retried nor dead-lettered; a job stopped by its time limit fails at once
    (whatever its actor raised when its upstream connection was closed). An upstream that said when to try
    again (``Retry-After``) is retried then instead of after the backoff, unless that is later than the
    longest backoff allowed: then the job fails at once (its error carries the wait, which the web passes
    on to the client) rather than ask again too soon. Parameters as Dramatiq's ``Retries``
    (``max_retries``, ``min_backoff``, ``max_backoff`` in ms, also per actor or per message).
    """

    def after_process_message(self, broker, message, *, result=None, exception=None):
        job = current.running()
        stopped = job is not None and job.stop_reason
        if exception is None or isinstance(exception, JobCancelled) or stopped == "cancelled":
            return
        if stopped or not is_transient(exception):
            message.fail()
            return
        wait = getattr(exception, "retry_after", None)
        if wait is not None:
            actor = broker.get_actor(message.actor_name)
            if wait * 1000 > message.options.get("max_backoff", actor.options.get("max_backoff", self.max_backoff)):
                message.fail()
                return
            exception = Retry(delay=wait * 1000)
        super().after_process_message(broker, message, result=result, exception=exception)
