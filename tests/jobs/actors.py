"""Test-only actors, loaded by workers started as ``dramatiq workers.main tests.jobs.actors``."""
from __future__ import annotations

import socket
import time

import dramatiq
import requests

import workers.runtime  # noqa: F401
from shared.errors import BadRequest, UpstreamError
from shared.jobs import current
from shared.redis_client import get_redis, key


@dramatiq.actor(actor_name="tests.echo", queue_name="default", max_retries=0)
def echo(job_id: str, value=None, deltas: int = 0):
    for index in range(deltas):
        current.publish("delta", {"index": index})
    return {"echo": value}


@dramatiq.actor(actor_name="tests.flaky", queue_name="default", max_retries=3, min_backoff=100, max_backoff=200)
def flaky(job_id: str, failures: int, permanent: bool = False):
    """Fail ``failures`` times (transient unless ``permanent``), then succeed; counts runs in Redis."""
    runs = get_redis().incr(key("tests", job_id, "runs"))
    if runs <= failures:
        if permanent:
            raise BadRequest("bad input")
        raise UpstreamError("upstream answered 503", 502, transient=True, upstream_status=503)
    return {"runs": runs}


@dramatiq.actor(actor_name="tests.crash", queue_name="default", max_retries=0)
def crash(job_id: str):
    raise RuntimeError("secret internal detail")


@dramatiq.actor(actor_name="tests.hang", queue_name="default", max_retries=3, time_limit=60_000)
def hang(job_id: str, port: int):
    """Read from an upstream that never answers; cancellation or the time limit closes the socket."""
    sock = socket.create_connection(("127.0.0.1", port))
    current.on_cancel(lambda: sock.shutdown(socket.SHUT_RDWR))
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return {"read": sock.recv(1).decode()}


@dramatiq.actor(actor_name="tests.slow_once", queue_name="default", max_retries=0)
def slow_once(job_id: str, seconds: float):
    """Count each run in Redis, then sleep (a worker may be killed meanwhile)."""
    runs = get_redis().incr(key("tests", job_id, "runs"))
    current.publish("delta", {"run": runs})
    time.sleep(seconds)
    return {"runs": runs}


@dramatiq.actor(actor_name="tests.quiet", queue_name="default", max_retries=0)
def quiet(job_id: str, seconds: float):
    """Sleep without publishing anything."""
    time.sleep(seconds)
    return {"slept": seconds}


@dramatiq.actor(actor_name="tests.http", queue_name="default", max_retries=0)
def http(job_id: str, url: str):
    """A requests call to an unreachable upstream (connection refused)."""
    return requests.get(url, timeout=1).text
