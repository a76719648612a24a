"""Streamed output of a running job, published as ``delta`` events at a paced rate.

An actor hands :func:`publish` the upstream's objects and how a batch of them becomes event data; the pacing
(:func:`batches`) keeps the first tokens immediate and gathers a fast stream into one event-log call per
``JOB_STREAM_FLUSH_MS``, whatever the upstream.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from shared.jobs import current
from shared.jobs.config import get_job_settings

FLUSH_BURST = 4
"""Batches of a stream published at once before pacing starts (the role chunk, the first tokens)."""
READER_WAITED = 0.0003
"""A reader whose item took longer than this (seconds) had read everything the socket held."""
READER_LEAD = 0.002
"""How long before a held batch goes out a napping reader wakes to read what arrived meanwhile."""
T = TypeVar("T")


class _Ended:
    """What the reader thread leaves last: nothing (the stream ended) or the exception that ended it."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _FlushBudget:
    """A token bucket for publishing a stream: ``burst`` batches at once, then one per ``interval``."""

    def __init__(self, interval: float, burst: int = FLUSH_BURST) -> None:
        self.interval = interval
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def ready_at(self) -> float:
        """When the next batch may go out (now or earlier: at once)."""
        now = time.monotonic()
        if self.interval > 0:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) / self.interval)
        self.stamp = now
        return now if self.tokens >= 1 or self.interval <= 0 else now + (1 - self.tokens) * self.interval

    def spend(self) -> None:
        self.tokens -= 1


def batches(source: Iterator[T]) -> Iterator[list[T]]:
    """``source``'s items in batches, paced by a :class:`_FlushBudget` of ``JOB_STREAM_FLUSH_MS``.

    This thread sends the request and reads the first item; then a reader thread (bound to the same job,
    so a cancel still shuts the upstream socket it reads) drains ``source`` and this thread takes what is
    queued. The first few items go out one by one at once (the time to first token is never held) and so
    does every item of a model writing slower than one per interval (most do); a faster upstream gives a
    batch per interval: fewer Redis calls here and fewer announcements for every web process relaying
    the stream. Once the reader has reached the end of the stream, what is held goes out at once.
    While holding, this thread sleeps until the interval is over or the stream ends, not waking for
    each item the reader queues (at hundreds of tokens a second per stream, those wake-ups cost more
    than the rest of the relay); and a reader that had to wait for an item while a batch is held naps
    until just before the batch goes out (``READER_LEAD``), so that the chunks arriving meanwhile
    gather in the socket and are read in one go rather than one wake-up each (so the end, arriving during
    such a nap, waits for that batch like any other item).
    """
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    job, stop, ended = current.running(), threading.Event(), threading.Event()
    close_source = getattr(source, "close", lambda: None)
    budget = _FlushBudget(get_job_settings().stream_flush_ms / 1000)
    flush_at = 0.0
    """When the held batch goes out (0 while nothing is held); read by the reader thread."""

    def read() -> None:
        current.bind(job)
        try:
            asked = time.monotonic()
            for item in source:
                if stop.is_set():
                    break
                inbox.put(item)
                now = time.monotonic()
                nap = flush_at - READER_LEAD - now
                if now - asked > READER_WAITED and nap > 0:
                    stop.wait(nap)
                    now = time.monotonic()
                asked = now
            inbox.put(_Ended())
        except BaseException as error:  # noqa: BLE001 - handed to the actor's thread
            inbox.put(_Ended(error))
        finally:
            ended.set()
            close_source()

    # The request goes out and its first item is read on this thread: no thread start before the first token.
    try:
        first = next(source)
    except StopIteration:
        return
    budget.spend()
    try:
        yield [first]
    except BaseException:  # closed (the job stopped) before the reader started
        close_source()
        raise
    threading.Thread(target=read, name="llm-stream-reader", daemon=True).start()
    try:
        while True:
            batch = [_next(inbox)]
            ready = budget.ready_at()
            if ready > time.monotonic() and not isinstance(batch[-1], _Ended):
                flush_at = ready
                ended.wait(ready - time.monotonic())
                flush_at = 0.0
            while not isinstance(batch[-1], _Ended):
                try:
                    batch.append(inbox.get_nowait())
                except queue.Empty:
                    break
            end = batch.pop() if isinstance(batch[-1], _Ended) else None
            if batch:
                budget.spend()
                yield batch
            if end is not None:
                if end.error is not None:
                    raise end.error
                return
    finally:
        stop.set()


def _next(inbox: queue.SimpleQueue) -> Any:
    """The next item, waking every half second so an interrupt (cancel, time limit) is not held up."""
    while True:
        try:
            return inbox.get(timeout=0.5)
        except queue.Empty:
            continue


def publish(source: Iterator[T], deltas: Callable[[list[T]], Iterable[str]]) -> None:
    """Publish ``source`` as the running job's ``delta`` events: ``deltas(batch)`` gives each batch's data."""
    for batch in batches(source):
        current.publish_many([("delta", data) for data in deltas(batch)])
