"""Answering an LLM job in the upstream's own wire format: Ollama NDJSON, OpenAI SSE, or one JSON body.

The HTTP status is decided by the job's first meaningful event: an ``error`` before any output becomes
an ordinary error response (502 unreachable, 504 timeout, the upstream's 4xx); the first ``delta``
starts the stream. A failure after that ends the stream with an error line/chunk, never silently.
When the client goes away mid-stream the job is cancelled (its worker closes the upstream connection).
A job that starts over after the client got part of its answer (its worker died and the message was
delivered again) would send the answer again from its start: the client's stream ends with an error
instead, and the job goes on to finish once (its result is the job's, under ``X-Job-Id``).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from flask import Response, copy_current_request_context, current_app, jsonify

from shared.db import session_scope
from shared.jobs import results
from shared.jobs import service as jobs
from shared.jobs.events import JobEvent, compact
from shared.models import Job
from shared.services.llm import connections
from web.db import db
from web.errors import json_error
from web.streaming.responses import accepted, follow_bursts, release_session, wants_async

RESTARTED = ("The worker answering this request stopped mid-answer, and the answer is being made again from "
             "the start: ask again, or read it from job {job_id} once that ends.")
TICK = 5.0
"""Seconds between idle checks (deadline, SSE keep-alive) while following a job. Not shorter: on an idle
tick ``follow`` checks the job row and, once finished, replays the row instead of the log."""


@dataclass(frozen=True)
class Wire:
    """How one protocol frames a stream."""

    content_type: str
    frame: Callable[[str], str]
    """Frames one object's JSON text."""
    error_frame: Callable[[str, int], str]
    end: str = ""
    keepalive: str | None = None


NDJSON = Wire(
    "application/x-ndjson",
    frame=lambda text: text + "\n",
    error_frame=lambda message, _status: compact({"error": message}) + "\n",
)
SSE = Wire(
    "text/event-stream",
    frame=lambda text: f"data: {text}\n\n",
    error_frame=lambda message, status: "data: " + json.dumps(
        {"error": {"message": message, "type": "upstream_error", "param": None, "code": status}}) + "\n\n",
    end="data: [DONE]\n\n",
    keepalive=": keep-alive\n\n",
)


def error_body(status: int, message: str, openai_style: bool) -> Response:
    """``{"detail"}`` on Open WebUI's routes, OpenAI's ``{"error": {...}}`` on ``/openai/...``."""
    if not openai_style:
        return json_error(status, message)
    kind = "invalid_request_error" if status < 500 else "upstream_error"
    response = jsonify(error={"message": message, "type": kind, "param": None, "code": status})
    response.status_code = status
    return response


def _deadline() -> float:
    """How long a request may wait for its first byte: three attempts at the upstream timeout, plus slack."""
    timeout, _ = connections.timeouts(db())
    return time.monotonic() + 3 * timeout + 10


def _cancel(job_id: str) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is not None:
            jobs.request_cancel(session, job)


def _restarted(event: JobEvent) -> bool:
    return event.type == "status" and event.data.get("status") == "running"


def _meaningful(job: Job, deadline: float | None) -> Iterator[list[JobEvent]]:
    """The job's ``delta``, ``result``, ``error`` and terminal events in bursts, [] on idle ticks; and a
    ``running`` status after a ``delta``: a new attempt (see :func:`_restarted`). Waiting past ``deadline``
    for the first of them cancels the job and ends in a synthetic 504 error."""
    output = False
    for burst in follow_bursts(job, keepalive=TICK):
        wanted = []
        for event in burst:
            if event.type in ("delta", "result", "error") or event.terminal or (output and _restarted(event)):
                wanted.append(event)
                output = output or event.type == "delta"
        if wanted:
            deadline = None
            yield wanted
        elif not burst:
            if deadline is not None and time.monotonic() > deadline:
                _cancel(job.id)
                yield [JobEvent("0-0", "error", {"message": "The model did not answer in time.", "status": 504})]
                return
            yield []


def _failure(job: Job, event: JobEvent | None, openai_style: bool) -> Response:
    """The error answer for a job that failed (or was cancelled) before any output."""
    if event is not None and event.type == "error":
        response = error_body(int(event.data.get("status") or 502),
                              event.data.get("message") or "Upstream failed", openai_style)
        if event.data.get("retry_after") is not None:  # the upstream's own Retry-After, passed on
            response.headers["Retry-After"] = str(event.data["retry_after"])
    else:
        response = error_body(409, "The request was cancelled.", openai_style)
    response.headers["X-Job-Id"] = job.id
    return response


def _frame(wire: Wire, job: Job, event: JobEvent) -> str:
    if event.type == "delta":
        return wire.frame(event.chunk_text())
    if event.type == "error":
        return wire.error_frame(event.data.get("message") or "Upstream failed", int(event.data.get("status") or 502))
    if _restarted(event):
        return wire.error_frame(RESTARTED.format(job_id=job.id), 503)
    return ""


class OpeningResponse(Response):
    """A streamed response whose status waits for its first chunk: ``opening`` blocks until the answer
    can begin and returns None to go ahead with this response, or the response to send instead (an error
    before any output). The server calls it after Flask has finished the request (after-request hooks,
    teardown), so that work is done while the job is starting, not between its first event and the
    client; PEP 3333 lets an application call ``start_response`` as late as its first iteration."""

    def __init__(self, opening: Callable[[], Response | None], body: Iterator[str], **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self.opening = opening

    def __call__(self, environ: dict, start_response: Callable) -> Iterator[bytes]:
        app_iter, status, headers = self.get_wsgi_response(environ)

        def opened() -> Iterator[bytes]:
            instead = self.opening()
            if instead is not None:
                app_iter.close()
                yield from instead(environ, start_response)
                return
            start_response(status, headers)
            yield from app_iter  # closing this generator closes the body too

        return opened()


def stream(job: Job, wire: Wire, *, openai_style: bool = False) -> Response:
    """Relay the job's ``delta`` chunks in ``wire``'s framing once the first one arrives; the chunks
    that arrive together go out in one write. Before any output, a failure is an error response.

    A client that goes away mid-stream cancels the job: it asked for this stream and nobody else reads
    it. With ``Prefer: respond-async`` the client detaches instead: 202 with the job, whose deltas it
    reads (and resumes) from the job's event stream, which never cancels the job when left."""
    if wants_async():
        return accepted(job)
    bursts = _meaningful(job, _deadline())
    release_session()
    first: list[JobEvent] | None = None

    @copy_current_request_context
    def instead(head: JobEvent | None, error: Exception | None) -> Response:
        """The error answer, made in (a copy of) the request's context, as the view would have."""
        if error is not None:
            return current_app.make_response(current_app.handle_user_exception(error))
        return _failure(job, head, openai_style)

    def opening() -> Response | None:
        nonlocal first
        try:
            first = next((b for b in bursts if b), None)
        except Exception as error:  # noqa: BLE001 - answered by the app's error handlers
            return instead(None, error)
        head = first[0] if first else None
        if head is None or head.type == "error" or (head.terminal and head.data.get("status") != "succeeded"):
            return instead(head, None)
        return None

    def body() -> Iterator[str]:
        finished = False
        try:
            try:
                for burst in _prepend(first, bursts):
                    if not burst:
                        if wire.keepalive:
                            yield wire.keepalive
                        continue
                    restart = next((i for i, event in enumerate(burst) if _restarted(event)), None)
                    burst = burst if restart is None else burst[:restart + 1]
                    yield "".join(_frame(wire, job, event) for event in burst)
                    finished = burst[-1].terminal
                    if restart is not None:
                        break  # the job goes on (see the module docstring); the client's stream ends here
            except redis.RedisError:
                finished = True  # the job goes on; only this relay lost its feed
                yield wire.error_frame("The stream was interrupted: the queue (Redis) could not be reached.", 503)
            yield wire.end
            finished = True
        finally:
            if not finished:
                _cancel(job.id)  # the client went away mid-stream

    return OpeningResponse(opening, body(), content_type=wire.content_type,
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Job-Id": job.id})


def _prepend(first: list[JobEvent], rest: Iterator[list[JobEvent]]) -> Iterator[list[JobEvent]]:
    yield first
    yield from rest


def result(job: Job, *, openai_style: bool = False, render: Callable[[Any], Any] = lambda r: r) -> Response:
    """The job's result as one JSON body (``render`` shapes it), its error as an error body; 202 with
    the job id when the client sent ``Prefer: respond-async``."""
    if wants_async():
        return accepted(job)
    outcome = None
    deadline = _deadline()
    release_session()
    for event in (e for burst in _meaningful(job, deadline) for e in burst):
        if event.type in ("result", "error"):
            outcome = event
        if event.terminal:
            break
    if outcome is None or outcome.type == "error":
        return _failure(job, outcome, openai_style)
    value = results.load(db().get(Job, job.id)) if outcome.data.get("stored") else outcome.data.get("result")
    return jsonify(render(value))
