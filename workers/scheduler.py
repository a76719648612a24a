"""The scheduler process (``python -m workers.scheduler``): sends the periodic Dramatiq messages
the job catalog declares (``JobSpec.every``).

Each entry runs once per period slot (``floor(time / every)``): before sending, a scheduler claims
the slot with ``SET NX`` in Redis, so two schedulers (a deploy overlap, a mistake) send it once.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass

import redis
from dramatiq import Message

from shared import logs
from shared.config import get_settings
from shared.jobs import broker, catalog
from shared.redis_client import get_redis, key

log = logging.getLogger("switchyard.scheduler")


@dataclass(frozen=True)
class Periodic:
    actor: str
    queue: str
    every: int
    """Seconds between runs."""


SCHEDULE = tuple(Periodic(spec.name, spec.queue, spec.every) for spec in catalog.SCHEDULED)
"""Every entry, from the catalog."""


def tick(schedule: tuple[Periodic, ...] = SCHEDULE, now: float | None = None) -> list[str]:
    """Send every entry whose current slot no scheduler has claimed yet; returns the actors sent."""
    now = time.time() if now is None else now
    client = get_redis()
    sent = []
    for entry in schedule:
        slot = int(now // entry.every)
        if client.set(key("scheduler", entry.actor, str(slot)), 1, nx=True, ex=entry.every * 2):
            broker.send(Message(queue_name=entry.queue, actor_name=entry.actor, args=(), kwargs={}, options={}))
            sent.append(entry.actor)
    return sent


def run(schedule: tuple[Periodic, ...] = SCHEDULE, interval: float = 1.0) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("scheduler started: %s", ", ".join(f"{e.actor} every {e.every}s" for e in schedule))
    while not stop.is_set():
        try:
            for actor in tick(schedule):
                log.info("sent %s", actor)
        except redis.RedisError as error:
            log.warning("Redis unavailable, retrying: %s", error)
        stop.wait(interval)


if __name__ == "__main__":
    logs.configure(get_settings().log_format)
    run()
