"""A streamed LLM answer's status waits for the job's first event: headers leave with the first chunk,
and a failure before any output is an ordinary error response (real Redis and PostgreSQL, no worker)."""
from __future__ import annotations

import json

import redis

from shared.jobs import events
from shared.models import Job
from shared.models.base import new_id
from web.streaming import wire as relay_wire


class Started:
    """A WSGI ``start_response`` that remembers what it was given."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: dict[str, str] = {}

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info=None):
        self.status, self.headers = status, dict(headers)


def streamed(app, wire: relay_wire.Wire, **options):
    """``wire.stream`` for a new running job, as the view returns it, with the request's environ."""
    job = Job(id=new_id(), kind="llm.chat", status="running", queue="llm", actor="llm_chat", payload={})
    with app.test_request_context("/ollama/api/chat", method="POST") as context:
        response = relay_wire.stream(job, wire, **options)
        environ = context.request.environ
    return job, response, environ


def test_headers_wait_for_the_first_chunk_and_leave_with_it(app):
    job, response, environ = streamed(app, relay_wire.NDJSON)
    started = Started()
    body = response(environ, started)  # the request is finished; the job has not said anything yet
    assert started.status is None
    events.publish(job.id, "status", {"status": "running"})  # not meaningful: still no answer
    events.publish(job.id, "delta", {"chunk": {"message": {"content": "Hi"}, "done": False}})
    first = next(body)
    assert started.status == "200 OK"
    assert started.headers["Content-Type"] == "application/x-ndjson"
    assert started.headers["X-Job-Id"] == job.id
    assert json.loads(first) == {"message": {"content": "Hi"}, "done": False}
    events.publish(job.id, "status", {"status": "succeeded"})
    assert b"".join(body) == b""
    body.close()


def test_an_error_before_any_output_is_an_error_response_in_the_route_s_style(app):
    for openai_style, expected in ((False, {"detail": "Upstream timed out"}),
                                   (True, {"error": {"message": "Upstream timed out", "type": "upstream_error",
                                                     "param": None, "code": 504}})):
        job, response, environ = streamed(app, relay_wire.SSE, openai_style=openai_style)
        events.publish(job.id, "error", {"message": "Upstream timed out", "status": 504})
        events.publish(job.id, "status", {"status": "failed"})
        started = Started()
        body = b"".join(response(environ, started))
        assert started.status.startswith("504")
        assert started.headers["Content-Type"] == "application/json"
        assert started.headers["X-Job-Id"] == job.id
        assert json.loads(body) == expected


def test_redis_failing_before_the_first_chunk_is_the_app_s_503(app, monkeypatch):
    def unreachable(*_args, **_kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("web.streaming.relay.EventRelay.subscribe", unreachable)
    _job, response, environ = streamed(app, relay_wire.NDJSON)
    started = Started()
    body = b"".join(response(environ, started))
    assert started.status.startswith("503")
    assert started.headers["Retry-After"] == "1"
    assert json.loads(body) == {"detail": "Service temporarily unavailable: the queue (Redis) cannot be reached."}
