"""Dramatiq's Retries, applied only to transient failures."""
from __future__ import annotations

import redis
import requests
from dramatiq.middleware import Retries

from shared.errors import UpstreamError
from shared.jobs import current
from shared.jobs.current import JobCancelled

TRANSIENT = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError,
             redis.ConnectionError, redis.TimeoutError)
"""Failures worth retrying: the upstream or our own Redis could not be reached in time."""


def is_transient(exception: BaseException) -> bool:
    """Worth retrying: connection failures, timeouts and upstream errors marked transient (429, 5xx)."""
    if isinstance(exception, UpstreamError):
        return exception.transient
    return isinstance(exception, TRANSIENT)


class TransientRetries(Retries):
    """Retries with exponential backoff for transient failures; anything else fails at once.

    Cancelled jobs are neither retried nor dead-lettered; a job stopped by its time limit fails at once
    (whatever its actor raised when its upstream connection was closed). Parameters as Dramatiq's ``Retries``
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
        super().after_process_message(broker, message, result=result, exception=exception)
