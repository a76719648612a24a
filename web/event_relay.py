"""One reader per web process for every job event stream its clients follow.

Each subscriber first reads what is already in its job's log itself (one XRANGE), then joins the
relay. The relay's single thread (a greenlet under gunicorn's gevent worker) blocks in one XREAD
over all followed streams plus a private wake-up stream, and hands each event to the subscribers'
queues. An idle stream costs a queue and a dict entry: no Redis connection and no thread each.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections import defaultdict

import redis

from shared.jobs import events
from shared.jobs.events import JobEvent
from shared.redis_client import get_redis, key, redis_url

log = logging.getLogger(__name__)

BLOCK_MS = 5000
BATCH = 500
LOST = JobEvent("", "lost", {})
"""Put in every subscriber's queue when Redis is lost: its events may have been missed."""


def _id_tuple(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class Subscription:
    """Events of one job after ``last_id``, in order; ``get`` returns None on timeout and raises
    ``redis.ConnectionError`` when the relay lost Redis (the client should come back later)."""

    def __init__(self, relay: EventRelay, job_id: str, last_id: str) -> None:
        self.relay = relay
        self.job_id = job_id
        self.last_id = last_id
        self.queue: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()

    def get(self, timeout: float) -> JobEvent | None:
        try:
            event = self.queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if event is LOST:
            raise redis.ConnectionError("The event relay lost its connection to Redis.")
        return event

    def deliver(self, event: JobEvent) -> None:
        if _id_tuple(event.id) > _id_tuple(self.last_id):
            self.last_id = event.id
            self.queue.put(event)

    def close(self) -> None:
        self.relay.unsubscribe(self)


class EventRelay:
    def __init__(self) -> None:
        self.client = redis.Redis.from_url(redis_url(), decode_responses=True, socket_connect_timeout=2)
        self.wake_stream = key("relay", uuid.uuid4().hex)
        self.wake_last = "0-0"
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.lock = threading.Lock()
        threading.Thread(target=self._run, name="event-relay", daemon=True).start()

    def subscribe(self, job_id: str, last_event_id: str | None) -> tuple[list[JobEvent], Subscription]:
        """The events already logged after ``last_event_id`` and a subscription for the ones to come."""
        backlog = events.read_after(job_id, last_event_id)
        last = backlog[-1].id if backlog else (last_event_id or "0-0")
        subscription = Subscription(self, job_id, last)
        if backlog and backlog[-1].terminal:
            return backlog, subscription
        with self.lock:
            self.subscribers[events.stream_key(job_id)].add(subscription)
        self._wake()
        return backlog, subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        stream = events.stream_key(subscription.job_id)
        with self.lock:
            followers = self.subscribers.get(stream)
            if followers is not None:
                followers.discard(subscription)
                if not followers:
                    del self.subscribers[stream]

    def _drop_all(self) -> None:
        with self.lock:
            dropped = [s for subscribers in self.subscribers.values() for s in subscribers]
            self.subscribers.clear()
        for subscription in dropped:
            subscription.queue.put(LOST)

    def _wake(self) -> None:
        pipe = get_redis().pipeline(transaction=False)
        pipe.xadd(self.wake_stream, {"w": 1}, maxlen=10, approximate=False)
        pipe.expire(self.wake_stream, 24 * 3600)
        pipe.execute()

    def _offsets(self) -> dict[str, str]:
        with self.lock:
            offsets = {stream: min((s.last_id for s in subs), key=_id_tuple)
                       for stream, subs in self.subscribers.items()}
        offsets[self.wake_stream] = self.wake_last
        return offsets

    def _run(self) -> None:
        while True:
            try:
                self._read_once()
            except redis.RedisError as error:
                log.warning("event relay: Redis unavailable (%s); retrying", error)
                self._drop_all()
                time.sleep(0.5)
            except Exception:  # noqa: BLE001 - the relay must outlive any single failure
                log.exception("event relay failed; restarting")
                time.sleep(0.5)

    def _read_once(self) -> None:
        answer = self.client.xread(self._offsets(), count=BATCH, block=BLOCK_MS) or []
        for stream, entries in answer:
            if stream == self.wake_stream:
                self.wake_last = entries[-1][0]
                continue
            with self.lock:
                followers = list(self.subscribers.get(stream, ()))
            for event_id, fields in entries:
                event = events.decode(event_id, fields)
                for subscription in followers:
                    subscription.deliver(event)
                if event.terminal:
                    for subscription in followers:
                        self.unsubscribe(subscription)


_relay: tuple[int, EventRelay] | None = None
_relay_lock = threading.Lock()


def get_relay() -> EventRelay:
    """This process's relay, started on first use (again in a forked child)."""
    global _relay
    with _relay_lock:
        if _relay is None or _relay[0] != os.getpid():
            _relay = (os.getpid(), EventRelay())
        return _relay[1]
