"""Jobs finished per queue and minute, kept in Redis for an hour: what the queue dashboard plots.

Workers count each outcome in the round trip that acks the message (``workers/metrics.py``); one hash per
minute, a field per queue and outcome.
"""
from __future__ import annotations

import time

import redis

from shared.jobs.broker import namespace

KEEP_SECONDS = 3600
OUTCOMES = ("succeeded", "failed", "retried", "cancelled", "skipped")


def minute_key(minute: int) -> str:
    return f"{namespace()}:__done__.{minute}"


def count(pipe: redis.client.Pipeline, queue: str, outcome: str, at: float | None = None) -> None:
    """Queue one finished job on ``pipe``."""
    key = minute_key(int((at or time.time()) // 60))
    pipe.hincrby(key, f"{queue}|{outcome}", 1)
    pipe.expire(key, KEEP_SECONDS)


def recent(client: redis.Redis, minutes: int, now: float | None = None) -> list[tuple[int, dict[str, dict[str, int]]]]:
    """The last ``minutes`` minutes, oldest first: (minute start in Unix seconds, queue -> outcome -> count)."""
    current = int((now or time.time()) // 60)
    first = current - minutes + 1
    pipe = client.pipeline(transaction=False)
    for minute in range(first, current + 1):
        pipe.hgetall(minute_key(minute))
    out = []
    for minute, fields in zip(range(first, current + 1), pipe.execute()):
        counts: dict[str, dict[str, int]] = {}
        for field, value in fields.items():
            queue, _, outcome = field.decode().partition("|")
            counts.setdefault(queue, {})[outcome] = int(value)
        out.append((minute * 60, counts))
    return out
