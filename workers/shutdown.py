"""A worker process stops gracefully when its whole process group gets SIGTERM.

Dramatiq's main process passes each SIGTERM it gets on to its worker processes, and a worker process
takes a second SIGTERM as "stop now" (it exits at once, abandoning the jobs it runs). Honcho (``switchyard
serve``), foreman and systemd send SIGTERM to every process of the group, so a worker process got two
at once: its own and the main process's copy, and its running jobs were cut off midway (and delivered
again after the redelivery timeout). Here a SIGTERM arriving within ``COPY_WINDOW`` seconds of the first
is taken as that copy and dropped; a later one still means "stop now".
"""
from __future__ import annotations

import logging
import signal
import threading
import time

from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)

COPY_WINDOW = 2.0
"""Seconds after a SIGTERM during which another is the main process's copy of the same signal."""


class GracefulGroupStop(Middleware):
    def after_process_boot(self, broker):
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread (Dramatiq boots there)
        stop = signal.getsignal(signal.SIGTERM)
        if not callable(stop):
            return
        first: float | None = None

        def once(signum, frame) -> None:
            nonlocal first
            now = time.monotonic()
            if first is not None and now - first < COPY_WINDOW:
                log.info("ignoring a second SIGTERM %.1f s after the first (the main process's copy)", now - first)
                return
            first = first if first is not None else now
            stop(signum, frame)

        signal.signal(signal.SIGTERM, once)
