"""The job a worker thread is running, for the actor's own use: events, progress and cancellation.

The job-lifecycle middleware binds the job before the actor runs and unbinds it afterwards; outside a
job these helpers raise ``RuntimeError`` (``current_job_id`` returns None).

A job's ``running`` status is held back and published with the job's next events (its first output,
progress or outcome) in the same call, or by the supervisor's next check (every 100 ms) when the job
publishes nothing before then: a short job costs one Redis call fewer, and a streamed answer's first
chunk does not wait behind a separate status call.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from dramatiq.threading import Interrupt

from shared.jobs import events
from shared.jobs.service import record_progress

log = logging.getLogger(__name__)

MAX_HELD = 10_000
"""Events a job holds while Redis cannot be reached; past this its next publish fails the job."""

Events = list[tuple[str, dict | str | None]]
"""(type, data) pairs; data is a dict or its JSON text (see ``events.publish_many``)."""


class JobCancelled(Interrupt):
    """Raised inside an actor whose job was cancelled (a BaseException, like Dramatiq's interrupts,
    so ``except Exception`` in an actor does not swallow it)."""


@dataclass
class RunningJob:
    """A message being processed by a worker thread; ``job_id`` is None for messages without a job row."""

    job_id: str | None
    thread_id: int = field(default_factory=threading.get_ident)
    deadline: float = float("inf")
    stop_reason: str | None = None
    """None while running; ``cancelled`` or ``time_limit`` once it is being stopped."""
    done: bool = False
    callbacks: list[Callable[[], None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: Events = field(default_factory=list)
    """Events not published yet; they go first in the job's next publish."""

    def publish(self, new: Events) -> list[str]:
        """Append the held events and then ``new`` to the job's log in one call; the ids of ``new``.
        Nothing to append (a flush that lost the race to the job's own publish) sends nothing. While Redis
        cannot be reached the events are held (up to ``MAX_HELD``) and the job goes on: they go out, in order,
        with its next publish, the supervisor's next flush or its outcome; their ids are empty."""
        with self.lock:
            held, batch = self.held, self.held + new
            if not batch:
                return []
            self.held = []
            try:
                return events.publish_many(self.job_id, batch)[len(held):]
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if len(batch) > MAX_HELD:
                    self.held = held
                    raise
                if not held:
                    log.warning("job %s: holding its events until Redis is back (%s)", self.job_id, error)
                self.held = batch
                return [""] * len(new)
            except BaseException:
                self.held = held
                raise

    def take_held(self) -> Events:
        """The held events, no longer held (the caller publishes them)."""
        with self.lock:
            held, self.held = self.held, []
            return held

    def flush(self) -> None:
        """Publish the held events now (the unlocked check only skips the lock when there are none)."""
        if self.held:
            self.publish([])

    def stop(self, reason: str, interrupt: Callable[[], None]) -> bool:
        """Mark the job stopping, ``interrupt`` its thread, then run its cleanup callbacks once; False if
        it already ended or was stopped. Interrupting first means that a read the callbacks unblock
        ends in the interruption rather than in an ordinary return."""
        with self.lock:
            if self.done or self.stop_reason is not None:
                return False
            self.stop_reason = reason
            callbacks, self.callbacks = self.callbacks, []
            interrupt()
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a failing cleanup must not hide the stop
                pass
        return True

    def finish(self) -> None:
        with self.lock:
            self.done = True


_local = threading.local()


def bind(job: RunningJob | None) -> None:
    _local.job = job


def running() -> RunningJob | None:
    return getattr(_local, "job", None)


def _require() -> RunningJob:
    job = running()
    if job is None or job.job_id is None:
        raise RuntimeError("not inside a job")
    return job


def current_job_id() -> str | None:
    job = running()
    return job.job_id if job else None


def publish(type: str, data: dict | None = None) -> str:
    """Append an event (``delta``, ``progress`` ...) to the current job's log."""
    return publish_many([(type, data)])[0]


def publish_many(new: Events) -> list[str]:
    """Append events to the current job's log in one call."""
    return _require().publish(new)


def progress(fraction: float, message: str = "") -> None:
    """Record progress (0..1) on the job row and publish a ``progress`` event. Keep calls coarse."""
    job = _require()
    fraction = min(1.0, max(0.0, float(fraction)))
    record_progress(job.job_id, fraction, message)
    job.publish([("progress", {"progress": fraction, "message": message})])


def on_cancel(callback: Callable[[], None]) -> None:
    """Call ``callback`` when the job is cancelled or hits its time limit (at once if it already was)."""
    job = _require()
    with job.lock:
        if job.stop_reason is None:
            job.callbacks.append(callback)
            return
    callback()


def cancelled() -> bool:
    job = running()
    return bool(job and job.stop_reason == "cancelled")


def raise_if_cancelled() -> None:
    if cancelled():
        raise JobCancelled("The job was cancelled.")
