"""Small Redis values that every request reads, kept in each process until a writer announces a change.

The gateway looks up the gateway settings' version and the model registry on every chat request, the
worker the settings' version on every LLM job: each a Redis round trip on the way to the first token.
A process that follows the ``changed`` channel keeps what it read instead; the same rules as the
session cache (``shared.services.auth_cache``) make that safe:

- a writer changes the key and announces its name in one pipeline (:func:`write`), and its own process
  drops its copy at once (it reads its own write; other processes within the announcement's delivery);
- a reader notes :attr:`WatchedValues.generation` before its ``GET`` and keeps the answer only if the key
  was not announced since;
- the copy only answers while the process is subscribed (emptied and off from a lost subscription until
  Redis confirms the new one), and for at most ``MAX_AGE`` seconds, a bound on anything missed.

The web follows the channel with its event relay, a worker process with :func:`follow_in_thread`; a
process that follows nothing (a CLI, a test) reads Redis every time, as before.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from shared.announced import AnnouncedCache
from shared.redis_client import get_redis, key

MAX_AGE = 30.0
log = logging.getLogger(__name__)


def channel() -> str:
    return key("watched", "changed")


class WatchedValues(AnnouncedCache):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, tuple[str | None, float]] = {}
        """Key -> (value, when it was read)."""

    def get(self, redis_key: str) -> str | None:
        """The key's value: this process's copy while it is valid, else read from Redis (and kept)."""
        with self.lock:
            kept = self.values.get(redis_key) if self.enabled else None
            if kept is not None and time.monotonic() - kept[1] < MAX_AGE:
                return kept[0]
            generation = self.generation
        value = get_redis().get(redis_key)
        with self.lock:
            if self.may_keep(redis_key, generation):
                self.values[redis_key] = (value, time.monotonic())
        return value

    def drop(self, name: str) -> None:
        self.values.pop(name, None)

    def drop_all(self) -> None:
        self.values.clear()


watched = WatchedValues()
"""This process's copy."""


def write(redis_key: str, change: Callable[[redis.client.Pipeline], object]) -> None:
    """Change ``redis_key`` with ``change`` and announce it to every process, in one round trip."""
    pipe = get_redis().pipeline(transaction=False)
    change(pipe)
    pipe.publish(channel(), redis_key)
    pipe.execute()
    watched.on_message(redis_key)


def follow_in_thread(values: WatchedValues = watched, retry_seconds: float = 0.5) -> threading.Thread:
    """Follow the announcements on a daemon thread with its own pub/sub connection (worker processes)."""

    def run() -> None:
        while True:
            pubsub = get_redis().pubsub()
            try:
                pubsub.subscribe(channel())
                while True:
                    message = pubsub.get_message(timeout=5.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        values.on_subscription(True)
                    elif message["type"] == "message":
                        values.on_message(message["data"])
            except redis.RedisError as error:
                log.warning("watched values: Redis unavailable (%s); retrying", error)
            finally:
                values.on_subscription(False)
                pubsub.close()
            time.sleep(retry_seconds)

    thread = threading.Thread(target=run, name="watched-values", daemon=True)
    thread.start()
    return thread
