"""Which worker processes are alive and what they consume: each writes a heartbeat key with a TTL.

A worker process beats every :data:`INTERVAL` seconds (``workers/heartbeat.py``); its key expires
:data:`TTL` seconds after the last beat, so a process that was killed disappears on its own. The keys are
listed in a set, so readers need no ``SCAN``; names whose key has expired are removed as they are read.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import redis

from shared.jobs.broker import namespace

INTERVAL = 5.0
TTL = 20


@dataclass(frozen=True)
class Heartbeat:
    host: str
    pid: int
    queues: list[str]
    threads: int
    started: float
    """Unix seconds."""
    beat: float
    """Unix seconds of the last beat."""

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}"


def index_key() -> str:
    return f"{namespace()}:__workers__"


def key(name: str) -> str:
    return f"{index_key()}.{name}"


def beat(client: redis.Redis, heartbeat: Heartbeat) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.set(key(heartbeat.name), json.dumps(asdict(heartbeat)), ex=TTL)
    pipe.sadd(index_key(), heartbeat.name)
    pipe.execute()


def stop(client: redis.Redis, name: str) -> None:
    """The process is stopping: it is no longer a live worker."""
    pipe = client.pipeline(transaction=False)
    pipe.delete(key(name))
    pipe.srem(index_key(), name)
    pipe.execute()


def live(client: redis.Redis) -> list[Heartbeat]:
    """The worker processes whose heartbeat has not expired, oldest first."""
    names = sorted(name.decode() for name in client.smembers(index_key()))
    if not names:
        return []
    found, gone = [], []
    for name, raw in zip(names, client.mget([key(name) for name in names])):
        if raw is None:
            gone.append(name)
        else:
            found.append(Heartbeat(**json.loads(raw)))
    if gone:
        client.srem(index_key(), *gone)
    return sorted(found, key=lambda heartbeat: heartbeat.started)


def age(heartbeat: Heartbeat, now: float | None = None) -> float:
    return max(0.0, (now or time.time()) - heartbeat.beat)
