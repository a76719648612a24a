"""The worker runtime: the broker and the middleware every message runs through; importing it sets the global broker.

Order matters: ``before_`` hooks run top to bottom, ``after_`` hooks bottom to top. ``JobLifecycle``
claims the job first and records the outcome last, after ``TransientRetries`` has decided whether a
failure is final and ``JobSupervisor`` has stopped watching the thread.
"""
from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, ShutdownNotifications

from shared.jobs.broker import make_broker
from workers.lifecycle import JobLifecycle
from workers.retries import TransientRetries
from workers.shutdown import GracefulGroupStop
from workers.supervisor import JobSupervisor
from workers.watched import FollowWatchedValues

broker = make_broker(
    middleware=[
        AgeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(),
        JobLifecycle(),
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
