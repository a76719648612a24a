"""The worker runtime: the broker and the middleware every message runs through; importing it sets the global broker.

Order matters: ``before_`` hooks run top to bottom, ``after_`` hooks bottom to top. ``JobLifecycle``
claims the job first and records the outcome last, after ``TransientRetries`` has decided whether a
failure is final and ``JobSupervisor`` has stopped watching the thread. ``JobMetrics`` (with
``ENABLE_METRICS``) sits between them: it times only deliveries that claimed their job, and reads the
outcome once ``TransientRetries`` has decided it. ``WorkerHeartbeat`` only looks at the worker's boot and
shutdown.
"""
from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import AgeLimit, Callbacks, Middleware, Pipelines, ShutdownNotifications

from shared import logs, metrics
from shared.config import get_settings
from shared.jobs.broker import make_broker
from workers.heartbeat import WorkerHeartbeat
from workers.lifecycle import JobLifecycle
from workers.request_ids import RequestIds
from workers.retries import TransientRetries
from workers.shutdown import GracefulGroupStop
from workers.supervisor import JobSupervisor
from workers.watched import FollowWatchedValues


def _job_metrics() -> list[Middleware]:
    if not metrics.enabled():
        return []
    from workers.metrics import JobMetrics  # creates the metrics: only when they are on

    return [JobMetrics()]


broker = make_broker(
    middleware=[
        AgeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
        RequestIds(), WorkerHeartbeat(),
        JobLifecycle(),
        *_job_metrics(),
        TransientRetries(max_retries=5, min_backoff=1000, max_backoff=300_000),
        JobSupervisor(),
        FollowWatchedValues(),
        GracefulGroupStop(),
    ]
)
dramatiq.set_broker(broker)


class _ResultsAreStored(logging.Filter):
    """Dramatiq warns when an actor returns a value without its Results middleware; JobLifecycle stores it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "haven't added the Results middleware" not in record.getMessage()


logging.getLogger("dramatiq.worker.WorkerThread").addFilter(_ResultsAreStored())
logs.configure(get_settings().log_format)
