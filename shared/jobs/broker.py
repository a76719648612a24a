"""The Dramatiq RedisBroker on the configured Redis (or the embedded one), with prompt idle pickup.

Dramatiq's Redis consumer sleeps with a growing backoff (up to the worker timeout) when its queue
is empty, so the first message after a quiet spell waits up to a second. Here every enqueue also
pushes a token onto a per-queue wake-up list, and a consumer whose last fetch emptied its queue
blocks on that list (BLPOP) with its next fetch sent in the same write: Redis runs the fetch as soon
as the BLPOP returns, so a message that wakes a consumer reaches it in that one round trip, and a
consumer that just took the last message goes straight back to waiting (a process that sat idle is
slow to wake, so each round trip saved counts). While fetches come back full the consumer fetches
again without waiting. Fetching, acking and redelivery stay Dramatiq's own Lua script, so its delivery
guarantees are unchanged; messages put back without a token (Dramatiq's requeue of a dead worker's
messages) are fetched when the wait times out (``JOB_IDLE_WAIT_MS``). The consumer and the dispatch
call lean on Dramatiq's private Redis API: pinned to the tested minor version, checked by
``tests/unit/test_dramatiq_contract.py``.

A worker thread may also hand commands to its next ack or nack (``settle_with``): they go to Redis in
the same round trip, before the ack; a job's outcome events travel that way.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import redis
from redis.commands.core import Script
import dramatiq.broker as dramatiq_broker
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis, dq_name
from dramatiq.errors import ConnectionClosed, DecodeError
from dramatiq.message import Message
from dramatiq.middleware import Middleware

from shared.config import get_settings
from shared.jobs.config import get_job_settings
from shared.redis_client import execute_loading_scripts, queue_script, redis_url

log = logging.getLogger(__name__)

WAKE_TOKENS = 16
"""Wake-up tokens kept per queue; more would only cause empty fetches."""
FULL_PREFETCH_PAUSE = 0.002
"""Seconds a consumer whose prefetch is full waits before checking again for freed slots."""


def namespace() -> str:
    return f"{get_settings().redis_prefix}:dramatiq"


class _WakeableConsumer(_RedisConsumer):
    """Dramatiq's consumer, waiting on the queue's wake-up list instead of sleeping when idle, and acking
    or nacking in one round trip with what the worker thread handed over (``settle_with``)."""

    def __init__(self, broker: SwitchyardBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, 0)
        self.idle_wait = min(timeout, get_job_settings().idle_wait_ms) / 1000
        self.drained = False
        """Whether the last fetch emptied the queue (it brought fewer messages than it asked for)."""

    def __next__(self):
        try:
            if not self.message_cache:
                room = self.prefetch - self.outstanding_message_count
                if room <= 0:
                    time.sleep(FULL_PREFETCH_PAUSE)  # worker threads free slots by acking
                    return None
                # After a fetch that emptied the queue, wait for a wake-up token first: every message
                # sent since brought one, so the wait ends at once when there is work.
                self.message_cache = (self.broker.wait_then_fetch(self.queue_name, room, self.idle_wait)
                                      if self.drained else self.broker.do_fetch(self.queue_name, room))
                self.drained = len(self.message_cache) < room
                if not self.message_cache:
                    return None
            return super().__next__()  # Dramatiq's own: the next cached message, decoded
        except DecodeError as error:
            self.broker.reject_undecodable(self.queue_name, error.data)
            return None
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None

    def ack(self, message) -> None:
        self._settle(super().ack, message)

    def nack(self, message) -> None:
        self._settle(super().nack, message)

    def _settle(self, settle: Callable, message) -> None:
        """Ack or nack the message in one round trip with the commands this thread handed to it."""
        riders = self.broker.take_riders()
        if not riders:
            settle(message)
            return

        def build(pipe: redis.client.Pipeline) -> None:
            for queue_commands, _scripts in riders:
                queue_commands(pipe)
            with self.broker.batched(pipe):
                settle(message)

        scripts = [self.broker.scripts["dispatch"], *(script for _build, used in riders for script in used)]
        try:
            execute_loading_scripts(build, scripts, self.broker.client)
        except BaseException as error:
            self.broker.restore_riders(riders)  # Dramatiq retries a settle that lost Redis
            if isinstance(error, redis.ConnectionError):
                raise ConnectionClosed(error) from None
            raise


Rider = tuple[Callable[[redis.client.Pipeline], None], Iterable[Script]]
"""Commands to queue on the settling pipeline, and the Lua scripts they run."""


class SwitchyardBroker(RedisBroker):
    """RedisBroker with wake-up on enqueue, timed dead-worker maintenance and poisoned-message rejection."""

    def __init__(self, *, maintenance_interval_ms: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maintenance_interval_ms = maintenance_interval_ms
        self._last_maintenance: dict[str, int] = {}
        self._batch = threading.local()
        self._riders = threading.local()

    def settle_with(self, queue_commands: Callable[[redis.client.Pipeline], None], scripts: Iterable[Script]) -> None:
        """Send what ``queue_commands`` queues with this thread's next ack or nack, in its round trip."""
        self.restore_riders([(queue_commands, list(scripts))])

    def restore_riders(self, riders: list[Rider]) -> None:
        self._riders.list = [*getattr(self._riders, "list", []), *riders]

    def take_riders(self) -> list[Rider]:
        riders, self._riders.list = getattr(self._riders, "list", []), []
        return riders

    @contextmanager
    def batched(self, pipe: redis.client.Pipeline) -> Iterator[None]:
        """Within the block, this thread's enqueues (and their wake-ups) are queued on ``pipe``; they
        reach Redis when the caller executes it, together with whatever else it queued there."""
        self._batch.pipe = pipe
        try:
            yield
        finally:
            self._batch.pipe = None

    def _batch_pipe(self) -> redis.client.Pipeline | None:
        return getattr(self._batch, "pipe", None)

    @property
    def consumer_class(self):
        return _WakeableConsumer

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:__wake__.{queue_name}"

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        message = super().enqueue(message, delay=delay)
        if delay is None:
            self.wake(message.queue_name)
        return message

    def wake(self, queue_name: str) -> None:
        """Signal an idle consumer of the queue that a message is waiting."""
        key = self.wake_key(queue_name)
        batch = self._batch_pipe()
        pipe = batch if batch is not None else self.client.pipeline(transaction=False)
        pipe.lpush(key, 1)
        pipe.ltrim(key, 0, WAKE_TOKENS - 1)
        pipe.expire(key, 3600)
        if batch is None:
            pipe.execute()

    def wait_then_fetch(self, queue_name: str, count: int, timeout: float) -> list[bytes]:
        """Wait up to ``timeout`` seconds for a wake-up token, then fetch up to ``count`` messages, both in
        one round trip. Delay queues get no tokens: there the wait is a sleep."""
        if queue_name.endswith(".DQ") or timeout <= 0:
            time.sleep(timeout)
            return self.do_fetch(queue_name, count)

        def build(pipe: redis.client.Pipeline) -> None:
            pipe.blpop([self.wake_key(queue_name)], timeout=timeout)
            with self.batched(pipe):
                self.do_fetch(queue_name, count)

        return execute_loading_scripts(build, [self.scripts["dispatch"]], self.client)[1]

    def _dispatch(self, command):
        # Dramatiq runs maintenance (requeueing dead workers' messages) on a random 0.1% of commands,
        # which makes redelivery time depend on traffic; here each queue gets it on a fixed interval.
        dispatch = self.scripts["dispatch"]
        keys = [self.namespace]

        def do_dispatch(queue_name, *args):
            timestamp = current_millis()
            args = [
                command, timestamp, queue_name, self.broker_id, self.heartbeat_timeout,
                self.dead_message_ttl, self._maintenance_due(command, queue_name, timestamp),
                self._max_unpack_size(), *args,
            ]
            batch = self._batch_pipe()
            if batch is not None:
                return queue_script(batch, dispatch, keys, args)
            return dispatch(args=args, keys=keys)

        return do_dispatch

    def _maintenance_due(self, command: str, queue_name: str, timestamp: int) -> int:
        if command in {"ack", "nack"}:
            return 0
        if timestamp - self._last_maintenance.get(queue_name, 0) < self.maintenance_interval_ms:
            return 0
        self._last_maintenance[queue_name] = timestamp
        return 1

    def reject_undecodable(self, queue_name: str, data: bytes | str) -> None:
        """Dead-letter a message that cannot be decoded and record it, so it is never fetched again."""
        raw = data if isinstance(data, bytes) else str(data).encode()
        acks = f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
        messages = f"{self.namespace}:{queue_name}.msgs"
        for message_id in self.client.smembers(acks):
            if self.client.hget(messages, message_id) == raw:
                self.do_nack(queue_name, message_id.decode())
                break
        record_poisoned(self.client, queue_name, raw)
        log.error("rejected an undecodable message on queue %r (%d bytes)", queue_name, len(raw))


def poisoned_key() -> str:
    return f"{namespace()}:__poisoned__"


def record_poisoned(client: redis.Redis, queue_name: str, raw: bytes) -> None:
    """Keep the last 1,000 rejected messages (JSON: time, queue, first 4 KiB as text) for operators."""
    entry = json.dumps({"time": int(time.time()), "queue": queue_name,
                        "data": raw[:4096].decode("utf-8", "replace")})
    pipe = client.pipeline(transaction=False)
    pipe.lpush(poisoned_key(), entry)
    pipe.ltrim(poisoned_key(), 0, 999)
    pipe.execute()


def queue_depths(queues: Iterable[str]) -> dict[str, dict[str, int]]:
    """Messages waiting, delayed (retries) and dead-lettered per queue, read from Dramatiq's keys."""
    client = sending_broker().client
    prefix = namespace()
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(f"{prefix}:{queue}")
        pipe.llen(f"{prefix}:{dq_name(queue)}")
        pipe.zcard(f"{prefix}:{queue}.XQ")
    counts = pipe.execute()
    return {queue: {"waiting": counts[3 * i], "delayed": counts[3 * i + 1], "dead": counts[3 * i + 2]}
            for i, queue in enumerate(queues)}


def oldest_waiting_ages(queues: Iterable[str], now_ms: int | None = None) -> dict[str, float]:
    """Seconds the next message of each queue has been waiting (since it was sent, or since its retry was
    due); 0 for an empty queue. Dramatiq's queues are lists pushed on the right and fetched from the left."""
    queues = list(queues)
    client = sending_broker().client
    prefix = namespace()
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.lindex(f"{prefix}:{queue}", 0)
    heads = pipe.execute()
    for queue, head in zip(queues, heads):
        pipe.hget(f"{prefix}:{queue}.msgs", head or b"")
    bodies = pipe.execute()
    now_ms = now_ms or current_millis()
    ages = {}
    for queue, body in zip(queues, bodies):
        try:
            message = json.loads(body) if body else None
        except ValueError:  # undecodable: rejected when fetched
            message = None
        if not isinstance(message, dict):
            ages[queue] = 0.0
            continue
        due = int((message.get("options") or {}).get("eta") or 0)
        since = max(int(message.get("message_timestamp") or now_ms), due)
        ages[queue] = max(0.0, (now_ms - since) / 1000)
    return ages


def purge_dead_letters(queue: str) -> int:
    """Drop the queue's dead-lettered messages (their job rows keep their failure); how many there were."""
    client = sending_broker().client
    dead = f"{namespace()}:{queue}.XQ"
    pipe = client.pipeline(transaction=True)
    pipe.zcard(dead)
    pipe.delete(dead, f"{dead}.msgs")
    return pipe.execute()[0]


def poisoned_count() -> int:
    return sending_broker().client.llen(poisoned_key())


def make_broker(middleware: Iterable[Middleware] = ()) -> SwitchyardBroker:
    settings = get_job_settings()
    return SwitchyardBroker(
        url=redis_url(), namespace=namespace(), middleware=list(middleware),
        heartbeat_timeout=settings.redelivery_timeout_ms,
        maintenance_interval_ms=settings.maintenance_interval_ms,
    )


@lru_cache(maxsize=1)
def sending_broker() -> SwitchyardBroker:
    """A broker without worker middleware, for processes that only send (web, scheduler)."""
    return make_broker()


def _active_broker() -> SwitchyardBroker:
    """The worker's broker inside a worker, else a sending one."""
    worker_broker = dramatiq_broker.global_broker
    return worker_broker if isinstance(worker_broker, SwitchyardBroker) else sending_broker()


def dispatch_script() -> Script:
    """The Lua script Dramatiq's Redis broker runs for every command."""
    return _active_broker().scripts["dispatch"]


def send(message: Message, pipe: redis.client.Pipeline | None = None) -> Message:
    """Send a message by actor name (see :func:`_active_broker`). With ``pipe`` the message goes out
    when the caller executes that pipeline."""
    broker = _active_broker()
    if pipe is None:
        return broker.enqueue(message)
    with broker.batched(pipe):
        return broker.enqueue(message)
