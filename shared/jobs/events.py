"""Each job's ordered event log: a capped Redis Stream that expires some time after the job ends.

Event types: ``status`` {status}, ``progress`` {progress, message}, ``delta`` {any chunk of output},
``result`` {result}, ``error`` {type, message, status?}. The last event of a job is the ``status``
event with a finished status (succeeded, failed, cancelled).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import redis
from redis.commands.core import Script

from shared.jobs.config import get_job_settings
from shared.models.job import FINISHED
from shared.redis_client import get_redis, key, queue_script

ACTIVE_TTL = 7 * 24 * 3600
"""Seconds a log of a job that never finishes is kept."""


class JobEvent:
    """One event of a job's log. Read from Redis it keeps its data's JSON text (``text``) and parses it
    only when ``data`` is asked for: a relay passes most events on without looking inside."""

    __slots__ = ("id", "type", "_data", "_text")

    def __init__(self, id: str, type: str, data: dict | None = None, text: str | None = None) -> None:
        self.id = id
        self.type = type
        self._data = data
        self._text = text

    @property
    def data(self) -> dict:
        if self._data is None:
            self._data = json.loads(self._text or "{}")
        return self._data

    @property
    def text(self) -> str:
        """The data as JSON text."""
        if self._text is None:
            self._text = json.dumps(self._data or {}, default=str)
        return self._text

    @property
    def terminal(self) -> bool:
        return self.type == "status" and self.data.get("status") in FINISHED

    def chunk_text(self) -> str:
        """A ``delta``'s chunk as JSON text, cut out of the data's text when it has one (see :func:`delta`)."""
        if self._text is not None:
            at = self._text.find(_CHUNK_KEY)
            if at >= 0:
                return self._text[at + len(_CHUNK_KEY):-1].strip()
        return compact(self.data["chunk"])

    def __repr__(self) -> str:
        return f"JobEvent({self.id!r}, {self.type!r}, {self.text})"


_CHUNK_KEY = '"chunk":'


def compact(obj: Any) -> str:
    """JSON as the upstreams write it: no spaces after separators, UTF-8 kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def delta(chunk_text: str, extra: dict[str, str] | None = None) -> str:
    """A ``delta`` event's data as JSON text: ``extra``'s string fields, then ``chunk``, the chunk's JSON
    text spliced in unchanged (a streamed chunk is neither parsed again nor re-encoded on its way to the
    client). ``chunk`` is always the last key and the only non-string one, so the first ``"chunk":`` in
    the text is that key (a quote inside a JSON string is escaped) and the chunk runs from there to the
    closing brace: :meth:`JobEvent.chunk_text` cuts it out without parsing."""
    head = compact(extra)[:-1] + "," if extra else "{"
    return f"{head}{_CHUNK_KEY}{chunk_text}}}"


def stream_key(job_id: str) -> str:
    return key("job", job_id, "events")


def decode(event_id: str, fields: dict[str, str]) -> JobEvent:
    return JobEvent(event_id, fields["type"], text=fields.get("data") or "{}")


_PUBLISH = """
local ids, lines = {}, {}
for i = 4, #ARGV, 2 do
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
    ids[#ids + 1] = id
    lines[#lines + 1] = id .. '\\n' .. ARGV[i] .. '\\n' .. ARGV[i + 1]
end
redis.call('PUBLISH', ARGV[3], table.concat(lines, '\\n'))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return ids
"""
"""Append events to the log and announce them on the job's live channel, atomically and in order: one
announcement per call, so a batch of streamed chunks costs every follower one message, not one each."""


def channel(job_id: str) -> str:
    """The pub/sub channel announcing the job's new events: per event three lines ``<id>``, ``<type>``,
    ``<json data>`` (JSON text never holds a raw newline), one or more events per message."""
    return key("job", job_id, "live")


def channel_pattern() -> str:
    """The pub/sub pattern matching every job's channel."""
    prefix = re.sub(r"([*?\[\]\\])", r"\\\1", key("job"))
    return f"{prefix}:*:live"


def parse_announcement(message: str) -> list[JobEvent]:
    lines = message.split("\n")
    return [JobEvent(lines[i], lines[i + 1], text=lines[i + 2]) for i in range(0, len(lines), 3)]


def publish_many(job_id: str, events: Iterable[tuple[str, dict | str | None]],
                 pipe: redis.client.Pipeline | None = None) -> list[str]:
    """Append events in one round trip; returns their ids (with ``pipe``: queues the call there, see
    :func:`shared.redis_client.queue_script`, and returns no ids). An event's data is a dict or its JSON
    text (as :func:`delta` makes it)."""
    settings = get_job_settings()
    ttl = ACTIVE_TTL
    args: list = []
    for event_type, data in events:
        event = JobEvent("", event_type, text=data) if isinstance(data, str) else JobEvent("", event_type, data or {})
        args += [event_type, event.text]
        if event.terminal:
            ttl = settings.events_ttl
    keys, args = [stream_key(job_id)], [settings.events_maxlen, ttl, channel(job_id), *args]
    if pipe is not None:
        queue_script(pipe, publish_script(), keys, args)
        return []
    return publish_script()(keys=keys, args=args)


@lru_cache(maxsize=1)
def publish_script() -> Script:
    return get_redis().register_script(_PUBLISH)


def publish(job_id: str, type: str, data: dict[str, Any] | None = None) -> str:
    """Append one event to the job's log; returns its id (usable as ``Last-Event-ID``)."""
    return publish_many(job_id, [(type, data)])[0]


def read_after(job_id: str, last_event_id: str | None, count: int = 1000) -> list[JobEvent]:
    """The events after ``last_event_id`` (all when None) that are in the log now, without waiting."""
    start = f"({last_event_id}" if last_event_id else "-"
    return [decode(i, f) for i, f in get_redis().xrange(stream_key(job_id), start, "+", count=count)]


def log_exists(job_id: str) -> bool:
    return bool(get_redis().exists(stream_key(job_id)))


def iter_events(job_id: str, last_event_id: str | None = None,
                keepalive: float = 15.0) -> Iterator[JobEvent | None]:
    """Every event after ``last_event_id`` in order, waiting for new ones; None on each idle
    ``keepalive`` interval. Ends after the terminal event.

    Blocks the calling thread in XREAD: right for workers, tests and tools. The web relays
    streams through one dispatcher per process instead (``web/streaming/relay.py``).
    """
    stream = stream_key(job_id)
    last = last_event_id or "0-0"
    client = get_redis()
    while True:
        answer = client.xread({stream: last}, count=1000, block=max(1, int(keepalive * 1000)))
        if not answer:
            yield None
            continue
        for event_id, fields in answer[0][1]:
            last = event_id
            event = decode(event_id, fields)
            yield event
            if event.terminal:
                return
