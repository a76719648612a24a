"""Stops jobs that are cancelled or run past their time limit.

One monitor thread per worker process checks, every ``interval`` ms, the deadlines of the messages
being processed and the cancel flags (``job:<id>:cancel`` in Redis) of their jobs. Stopping a job
first runs the callbacks the actor registered with ``current.on_cancel`` (closing the upstream
response a read is blocked on), then raises ``JobCancelled`` or Dramatiq's ``TimeLimitExceeded``
in the actor's thread. Each check also publishes the events a job still holds back (its ``running``
status, when it has published nothing else yet).

Parameters: ``time_limit`` (ms, default 10 minutes; also an actor or message option),
``interval`` (ms, default 100).
"""
from __future__ import annotations

import logging
import threading
import time

import redis
from dramatiq.middleware import Middleware
from dramatiq.middleware.time_limit import TimeLimitExceeded
from dramatiq.threading import raise_thread_exception

from shared.jobs import current
from shared.jobs.service import cancel_key
from shared.redis_client import get_redis

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 600_000
"""Milliseconds a message may run when neither it nor its actor sets ``time_limit``."""


class JobSupervisor(Middleware):
    def __init__(self, *, time_limit: int = DEFAULT_TIME_LIMIT, interval: int = 100) -> None:
        self.time_limit = time_limit
        self.interval = interval / 1000
        self.running: dict[int, current.RunningJob] = {}
        self.lock = threading.Lock()

    @property
    def actor_options(self):
        return {"time_limit"}

    def after_process_boot(self, broker):
        threading.Thread(target=self._monitor, name="job-supervisor", daemon=True).start()

    def before_process_message(self, broker, message):
        actor = broker.get_actor(message.actor_name)
        limit = message.options.get("time_limit") or actor.options.get("time_limit", self.time_limit)
        job = current.running() or current.RunningJob(job_id=None)
        job.deadline = time.monotonic() + limit / 1000
        with self.lock:
            self.running[job.thread_id] = job

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self.lock:
            job = self.running.pop(threading.get_ident(), None)
        if job is not None:
            job.finish()

    after_skip_message = after_process_message

    def _monitor(self) -> None:
        redis_ok = True
        while True:
            time.sleep(self.interval)
            try:
                self._check()
                redis_ok = True
            except redis.RedisError as error:
                if redis_ok:
                    log.warning("cannot read cancel flags until Redis is back: %s", error)
                redis_ok = False
            except Exception:  # noqa: BLE001 - the monitor must outlive any single failure
                log.exception("job supervisor check failed")

    def _check(self) -> None:
        with self.lock:
            jobs = list(self.running.values())
        if not jobs:
            return
        now = time.monotonic()
        for job in jobs:
            if job.deadline <= now and job.stop(
                    "time_limit", lambda: raise_thread_exception(job.thread_id, TimeLimitExceeded)):
                log.warning("job %s exceeded its time limit", job.job_id or "(no job row)")
        with_rows = [job for job in jobs if job.job_id is not None and job.stop_reason is None]
        if not with_rows:
            return
        for job in with_rows:
            job.flush()
        flags = get_redis().mget([cancel_key(job.job_id) for job in with_rows])
        for job, flag in zip(with_rows, flags):
            if flag and job.stop("cancelled",
                                 lambda: raise_thread_exception(job.thread_id, current.JobCancelled)):
                log.info("cancelling job %s", job.job_id)
