"""Each worker process says it is alive, with its queues and threads, every few seconds
(``shared/jobs/heartbeats.py``): what the queue dashboard and the ``switchyard_queue_workers`` metric show."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import replace

import redis
from dramatiq.middleware import Middleware

from shared.jobs import heartbeats

log = logging.getLogger(__name__)
DELAY_SUFFIX = ".DQ"
"""Dramatiq's delay queues (retries waiting for their time) have consumers of their own."""


class WorkerHeartbeat(Middleware):
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._heartbeat: heartbeats.Heartbeat | None = None

    def after_worker_boot(self, broker, worker) -> None:
        queues = sorted(name for name in worker.consumers if not name.endswith(DELAY_SUFFIX))
        self._heartbeat = heartbeats.Heartbeat(host=socket.gethostname(), pid=os.getpid(), queues=queues,
                                               threads=worker.worker_threads, started=time.time(), beat=time.time())
        self._stop.clear()
        threading.Thread(target=self._beat, args=(broker.client,), name="heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker, worker) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            try:
                heartbeats.stop(broker.client, self._heartbeat.name)
            except redis.RedisError:
                pass  # it expires on its own

    def _beat(self, client: redis.Redis) -> None:
        while not self._stop.is_set():
            beat = replace(self._heartbeat, beat=time.time())
            try:
                heartbeats.beat(client, beat)
            except redis.RedisError as error:
                log.warning("could not write the worker heartbeat: %s", error)
            self._stop.wait(heartbeats.INTERVAL)
