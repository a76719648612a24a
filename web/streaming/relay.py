"""One Redis pub/sub connection per web process for every job event stream its clients follow.

Publishing appends each event to the job's log (a Redis Stream) and announces it on the job's
channel in the same Lua call, so announcements arrive in log order. The relay subscribes the pattern
of every job's channel once (as python-socketio's Redis manager, which Open WebUI scales with, hears
every emit in every process), so following a job costs no Redis command but reading its log: a new
follower registers, waits until the pattern subscription is confirmed, then reads the log after its
``Last-Event-ID``: everything published before is in that read, everything after arrives announced,
and ids at or below the last one delivered are dropped, so nothing is lost or repeated. A job this
process is about to send (``expect``, called by ``shared.jobs.enqueue`` just before the message goes
to Redis) has a follower from the start, which its first subscriber takes over without reading the
log at all. Announcements of jobs nobody here follows are dropped unparsed.
One reader thread (a greenlet under gunicorn's gevent worker) hands announcements to followers'
queues: an idle stream costs a queue and a dict entry, no Redis connection and no thread.
The same connection carries channels a process follows for its whole life (``listen``), such as the
session-change announcements of ``shared.services.auth_cache`` and, from the start, the changes of the
process's watched values (``shared.watched_values``: the gateway settings' version, the model registry).
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import OrderedDict, defaultdict
from typing import Protocol

import redis

from shared.jobs import events
from shared.jobs.events import JobEvent
from shared.redis_client import redis_url
from shared.watched_values import watched
from shared.watched_values import channel as watched_channel

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 5.0
EXPECT_SECONDS = 5.0
LOST = JobEvent("", "lost", {})
"""Put in every follower's queue when Redis is lost: announcements may have been missed."""


def _id_tuple(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class Subscription:
    """Events of one job after ``last_id``, in order; ``get_burst`` returns [] on timeout and raises
    ``redis.ConnectionError`` when the relay lost Redis (the client should come back later)."""

    def __init__(self, relay: EventRelay, job_id: str, last_id: str, caught_up: bool = False) -> None:
        self.relay = relay
        self.job_id = job_id
        self.last_id = last_id
        self.queue: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.pending: list[JobEvent] | None = None if caught_up else []
        """Announcements that arrive while the log is being read; None once caught up."""

    def get_burst(self, timeout: float) -> list[JobEvent]:
        """The next event and every one already queued behind it; empty when none came within ``timeout``."""
        burst: list[JobEvent] = []
        try:
            burst.append(self.queue.get(timeout=timeout))
            while True:
                burst.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        if LOST in burst:
            raise redis.ConnectionError("The event relay lost its connection to Redis.")
        return burst

    def _put(self, event: JobEvent) -> None:
        if _id_tuple(event.id) > _id_tuple(self.last_id):
            self.last_id = event.id
            self.queue.put(event)

    def announce(self, announced: list[JobEvent]) -> None:
        with self.lock:
            if self.pending is not None:
                self.pending.extend(announced)
            else:
                for event in announced:
                    self._put(event)

    def catch_up(self, backlog: list[JobEvent]) -> None:
        with self.lock:
            for event in [*backlog, *(self.pending or [])]:
                self._put(event)
            self.pending = None

    def close(self) -> None:
        self.relay.unsubscribe(self)


class Listener(Protocol):
    def on_message(self, data: str) -> None: ...

    def on_subscription(self, active: bool) -> None:
        """True once Redis confirmed the subscription, False when it was lost."""


class EventRelay:
    def __init__(self, url: str | None = None) -> None:
        self.client = redis.Redis.from_url(url or redis_url(), decode_responses=True, socket_connect_timeout=2)
        """Kept: a collected client closes its pool, the pub/sub connection included."""
        self.pubsub = self.client.pubsub()
        self.pattern = events.channel_pattern()
        self.followers: dict[str, set[Subscription]] = defaultdict(set)
        self.expected: OrderedDict[str, tuple[Subscription, float]] = OrderedDict()
        """Followers of jobs this process sent, by channel, until their first subscriber takes them over
        (or ``EXPECT_SECONDS`` pass: a job answered with 202 is not followed here)."""
        self.live = threading.Event()
        """Set while Redis has confirmed the pattern subscription of every job's channel."""
        self.listeners: dict[str, Listener] = {}
        """Channels followed for the life of the process (not job streams), re-subscribed after a loss."""
        self.to_subscribe: set[str] = set()
        """Listened channels the reader has yet to subscribe."""
        self.listening = False
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._run, name="event-relay", daemon=True)
        self.reader.start()

    def close(self) -> None:
        """Stop the reader (within about a second) and close the connection."""
        self.closing.set()
        self.reader.join(5)
        self.pubsub.close()
        self.client.close()

    def listen(self, channel: str, listener: Listener) -> None:
        """Pass every message on ``channel`` to ``listener`` from now on; it is told when the
        subscription is confirmed (again after each loss of Redis) and when it is lost. The reader
        subscribes it within a second (only the reader uses the pub/sub connection)."""
        with self.lock:
            self.listeners[channel] = listener
            self.to_subscribe.add(channel)

    def expect(self, job_id: str) -> None:
        """Start following a new job before its first event is published, so that its first subscriber
        needs no read of the log. Nothing happens while the relay is not subscribed."""
        channel = events.channel(job_id)
        subscription = Subscription(self, job_id, "0-0", caught_up=True)
        now = time.monotonic()
        with self.lock:
            if not self.live.is_set():
                return
            self.followers[channel].add(subscription)
            self.expected[channel] = (subscription, now + EXPECT_SECONDS)
            self._expire(now)

    def subscribe(self, job_id: str, last_event_id: str | None) -> Subscription:
        """Follow the job's events after ``last_event_id`` (all when None)."""
        channel = events.channel(job_id)
        with self.lock:
            expected = self.expected.pop(channel, None) if last_event_id is None else None
            if expected is not None:
                return expected[0]
            subscription = Subscription(self, job_id, last_event_id or "0-0")
            self.followers[channel].add(subscription)
        try:
            if not self.live.wait(CONFIRM_TIMEOUT):
                raise redis.TimeoutError("Redis did not confirm the event subscription.")
            subscription.catch_up(events.read_after(job_id, last_event_id))
        except BaseException:
            subscription.close()
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.lock:
            self._drop(subscription)

    def _expire(self, now: float) -> None:
        """Stop following expected jobs nobody took over in time (under ``self.lock``)."""
        while self.expected:
            channel, (oldest, until) = next(iter(self.expected.items()))
            if until > now:
                break
            del self.expected[channel]
            self._drop(oldest)

    def _drop(self, subscription: Subscription) -> None:
        channel = events.channel(subscription.job_id)
        followers = self.followers.get(channel)
        if followers is not None:
            followers.discard(subscription)
            if not followers:
                del self.followers[channel]

    def _run(self) -> None:
        while not self.closing.is_set():
            try:
                if not self.listening:
                    self.pubsub.psubscribe(self.pattern)
                    with self.lock:
                        self.to_subscribe = set(self.listeners)
                    self.listening = True
                if self.to_subscribe:
                    with self.lock:
                        channels, self.to_subscribe = self.to_subscribe, set()
                    self.pubsub.subscribe(*channels)
                if self.expected:  # also when no other job is sent to expire them
                    with self.lock:
                        self._expire(time.monotonic())
                message = self.pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._handle(message)
                    time.sleep(0)  # under gevent, let request greenlets run between buffered messages
            except redis.RedisError as error:
                log.warning("event relay: Redis unavailable (%s); retrying", error)
                self._drop_all()
                self.closing.wait(0.5)
            except Exception:  # noqa: BLE001 - the relay must outlive any single failure
                log.exception("event relay failed; going on")

    def _handle(self, message: dict) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "pmessage":
            with self.lock:
                followers = list(self.followers.get(channel, ()))
            if not followers:
                return
            announced = events.parse_announcement(message["data"])
            for subscription in followers:
                subscription.announce(announced)
            if announced[-1].terminal:
                with self.lock:
                    for subscription in followers:
                        self._drop(subscription)
        elif kind == "psubscribe":
            self.live.set()
        elif (listener := self.listeners.get(channel)) is not None:
            if kind == "subscribe":
                listener.on_subscription(True)
            elif kind == "message":
                listener.on_message(message["data"])

    def _drop_all(self) -> None:
        with self.lock:
            self.live.clear()
            dropped = [s for followers in self.followers.values() for s in followers]
            self.followers.clear()
            self.expected.clear()
        self.listening = False
        for listener in list(self.listeners.values()):
            listener.on_subscription(False)
        try:
            self.pubsub.reset()
        except redis.RedisError:
            pass
        for subscription in dropped:
            subscription.queue.put(LOST)


_relay: tuple[int, EventRelay] | None = None
_relay_lock = threading.Lock()


def get_relay() -> EventRelay:
    """This process's relay, started on first use (again in a forked child)."""
    global _relay
    with _relay_lock:
        if _relay is None or _relay[0] != os.getpid():
            _relay = (os.getpid(), EventRelay())
            _relay[1].listen(watched_channel(), watched)
        return _relay[1]
