"""How a streamed upstream answer is batched for publishing (``shared.jobs.streaming.batches``) and what the
batches' ``delta`` events carry (``jobs.llm._deltas``)."""
from __future__ import annotations

import json
import queue
import threading
import time

from jobs.llm import _deltas
from shared.jobs.config import get_job_settings
from shared.jobs.events import JobEvent
from shared.jobs.streaming import FLUSH_BURST, batches as _batches
from shared.providers.formats import StreamedCompletion
from shared.providers.upstream import parse_streamed
from shared.services.chats.delivery import ChatReply


def paced(count: int, gap: float):
    for index in range(count):
        time.sleep(gap)
        yield index


def test_the_first_items_go_out_alone_then_a_fast_stream_is_batched():
    batches = list(_batches(paced(100, 0.001)))
    assert [item for batch in batches for item in batch] == list(range(100))  # none lost, none reordered
    assert [len(b) for b in batches[:FLUSH_BURST]] == [1] * FLUSH_BURST
    assert len(batches) < 50  # ~1 ms items, a batch per interval once the burst is spent


def test_the_first_item_is_not_held_for_more():
    """The upstream sends its second item only once the first reached the publisher: a batcher that held
    the first item for company would wait for the second, and the source would say so."""
    first_out = threading.Event()

    def source():
        yield 0
        assert first_out.wait(10), "the first item was held back"
        yield 1

    batches = []
    for batch in _batches(source()):
        batches.append(batch)
        first_out.set()
    assert batches == [[0], [1]]


def test_a_reader_naps_while_a_batch_is_held_and_still_delivers_in_time():
    """Items arriving every millisecond (from another thread, as into a socket): the reader waits for few of
    them (it naps while a batch is held and then reads what gathered), none is lost, none is late."""
    arrived: queue.SimpleQueue = queue.SimpleQueue()
    waits = []

    def produce() -> None:
        for index in range(300):
            time.sleep(0.001)
            arrived.put((index, time.monotonic()))
        arrived.put(None)

    def socket_like():
        while True:
            try:
                item = arrived.get_nowait()
            except queue.Empty:
                waits.append(1)
                item = arrived.get()
            if item is None:
                return
            yield item

    threading.Thread(target=produce, daemon=True).start()
    delays, items = [], []
    for batch in _batches(socket_like()):
        published = time.monotonic()
        delays += [published - at for _index, at in batch]
        items += [index for index, _at in batch]
    interval = get_job_settings().stream_flush_ms / 1000
    assert items == list(range(300))
    assert max(delays) < 2 * interval + 0.02
    assert len(waits) < 150, f"the reader waited for {len(waits)} of 300 items"


def test_a_stream_slower_than_the_interval_is_never_held():
    gap = get_job_settings().stream_flush_ms / 1000 + 0.01
    started = time.monotonic()
    delays = [time.monotonic() - started - gap * (i + 1) for i, _batch in enumerate(_batches(paced(8, gap)))]
    assert len(delays) == 8  # one item per batch
    assert max(delays) < gap  # out before the next one came: the pacing never held it


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


def chunk(text: str) -> bytes:
    return json.dumps({"id": "c1", "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}).encode()


def test_a_background_batch_carries_the_chat_and_the_text_so_far_once_on_its_last_delta():
    answer, reply = StreamedCompletion("m"), ChatReply("job", "owner", {"chat_id": "c", "message_id": "a1"})
    first = [parse_streamed(chunk(word)) for word in ("One", " two", ' "three"')]
    datas = _deltas(answer, reply, first)
    assert [json.loads(data) for data in datas[:2]] == [{"chunk": s.value} for s in first[:2]]
    assert json.loads(datas[2]) == {"chat_id": "c", "message_id": "a1", "content": 'One two "three"',
                                    "chunk": first[2].value}
    # each chunk is cut out of its event as the upstream wrote it, wherever "chunk" may also appear
    assert [JobEvent("1-0", "delta", text=data).chunk_text() for data in datas] == [s.text for s in first]

    later = _deltas(answer, reply, [parse_streamed(chunk(' "chunk": 4'))])
    assert json.loads(later[0])["content"] == 'One two "three" "chunk": 4' == answer.content
    assert JobEvent("2-0", "delta", text=later[0]).chunk_text() == chunk(' "chunk": 4').decode()


def test_without_a_chat_every_delta_is_the_chunk_alone():
    answer = StreamedCompletion("m")
    batch = [parse_streamed(chunk(word)) for word in ("a", "b")]
    assert [json.loads(data) for data in _deltas(answer, None, batch)] == [{"chunk": s.value} for s in batch]
    assert answer.content == "ab"
