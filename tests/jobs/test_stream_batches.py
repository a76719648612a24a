"""How a streamed upstream answer is batched for publishing (``jobs.llm._batches``)."""
from __future__ import annotations

import time

from jobs.llm import FLUSH_BURST, _batches
from shared.jobs.config import get_job_settings


def paced(count: int, gap: float):
    for index in range(count):
        time.sleep(gap)
        yield index


def test_the_first_items_go_out_alone_then_a_fast_stream_is_batched():
    started = time.monotonic()
    batches, first_at = [], None
    for batch in _batches(paced(100, 0.001)):
        first_at = first_at or time.monotonic() - started
        batches.append(batch)
    assert [item for batch in batches for item in batch] == list(range(100))  # none lost, none reordered
    assert [len(b) for b in batches[:FLUSH_BURST]] == [1] * FLUSH_BURST
    assert first_at < 0.015  # the first item is not held
    assert len(batches) < 50  # ~1 ms items, a batch per interval once the burst is spent


def test_a_stream_slower_than_the_interval_is_never_held():
    gap = get_job_settings().stream_flush_ms / 1000 + 0.01
    started = time.monotonic()
    delays = [time.monotonic() - started - gap * (i + 1) for i, _batch in enumerate(_batches(paced(8, gap)))]
    assert len(delays) == 8  # one item per batch
    assert max(delays) < 0.015


def test_an_error_ends_the_batches_after_what_came_before():
    def broken():
        yield 1
        raise ConnectionError("dropped")

    seen = []
    try:
        for batch in _batches(broken()):
            seen += batch
    except ConnectionError as error:
        assert str(error) == "dropped"
    else:
        raise AssertionError("the upstream's error was swallowed")
    assert seen == [1]
