"""Answering with a job: relay its events as server-sent events, or wait (bounded) for its result."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from flask import Response, g, has_request_context, jsonify, request, stream_with_context

from shared.db import session_scope
from shared.jobs import enqueue, events, results
from shared.jobs.events import JobEvent
from shared.models.base import now
from shared.models.job import Job
from web.db import db
from web.errors import json_error
from web.streaming.relay import get_relay

KEEPALIVE_SECONDS = 15.0


def job_summary(job: Job) -> dict:
    """The 202 body for a job that is still under way."""
    return {"job_id": job.id, "status": job.status, "kind": job.kind,
            "url": f"/api/v1/jobs/{job.id}", "events_url": f"/api/v1/jobs/{job.id}/events"}


def sse_frame(event: JobEvent) -> str:
    return f"id: {event.id}\nevent: {event.type}\ndata: {event.text}\n\n"


def _replay_finished(job: Job) -> list[JobEvent]:
    """Events for a finished job whose log has already expired, rebuilt from its row."""
    outcome: list[JobEvent] = []
    if job.status == "succeeded":
        outcome.append(JobEvent("0-1", "result", {"result": results.load(job), "stored": job.result_path is not None}))
    elif job.status == "failed" and job.error:
        outcome.append(JobEvent("0-1", "error", {k: v for k, v in job.error.items() if k != "detail"}))
    outcome.append(JobEvent("0-2", "status", {"status": job.status}))
    return outcome


ROW_CHECK_INTERVAL = 10.0
"""Seconds between looks at an idle job's row, whatever the keep-alive interval."""
LOST_EVENTS_GRACE = 2
"""Seconds after a job's row ended without its final events reaching the log before the row is used."""


def _finished_row(job_id: str) -> Job | None:
    """The job's row if it ended a while ago (its worker writes the row just before the final events)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
    if job is None or not job.finished or (job.finished_at or 0) > now() - LOST_EVENTS_GRACE:
        return None
    return job


def follow(job: Job, last_event_id: str | None = None, keepalive: float = KEEPALIVE_SECONDS
           ) -> Iterator[JobEvent | None]:
    """The job's events after ``last_event_id`` through the process's relay; None on idle ticks."""
    for burst in follow_bursts(job, last_event_id, keepalive):
        if burst:
            yield from burst
        else:
            yield None


def follow_bursts(job: Job, last_event_id: str | None = None, keepalive: float = KEEPALIVE_SECONDS
                  ) -> Iterator[list[JobEvent]]:
    """:func:`follow` in bursts: the events that were waiting together (one write for a relay to send);
    an empty burst on idle ticks. The last burst ends with the terminal event."""
    if job.finished and not events.log_exists(job.id):
        yield [e for e in _replay_finished(job) if last_event_id is None or e.id > last_event_id]
        return
    subscription = get_relay().subscribe(job.id, last_event_id)
    next_row_check = time.monotonic() + ROW_CHECK_INTERVAL
    try:
        while True:
            burst = subscription.get_burst(keepalive)
            if not burst and time.monotonic() >= next_row_check:
                next_row_check = time.monotonic() + ROW_CHECK_INTERVAL
                if (finished := _finished_row(job.id)) is not None:
                    # The row ended but its final events never reached the log (Redis was down then).
                    yield _replay_finished(finished)
                    return
            ends = next((i for i, event in enumerate(burst) if event.terminal), None)
            if ends is not None:
                yield burst[:ends + 1]
                return
            yield burst
    finally:
        subscription.close()


def sse_response(job: Job, last_event_id: str | None = None) -> Response:
    """``text/event-stream`` of the job's events with ``id:`` lines, keep-alive comments while idle,
    ending after the final status event."""

    def body() -> Iterator[str]:
        yield ": connected\n\n"
        try:
            for burst in follow_bursts(job, last_event_id):
                yield "".join(map(sse_frame, burst)) if burst else ": keep-alive\n\n"
        except redis.RedisError:
            # Headers are gone already: tell the client to reconnect (with Last-Event-ID) shortly.
            yield "retry: 1000\n: the queue (Redis) is unavailable; reconnect to resume\n\n"

    return Response(stream_with_context(body()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def release_session() -> None:
    """Before a long wait: commit the request's session and return its database connection to the pool,
    keeping its objects (the job, the user) readable as loaded. Many waiting streams must not hold
    connections (the pool would run dry and every new request wait for one). The request is done with
    that session: a later ``db()`` opens a new one, and the response does not commit it again."""
    session = db()
    enqueue.commit_keeping_state(session)
    session.close()
    g.pop("db", None)


def wants_async() -> bool:
    return "respond-async" in request.headers.get("Prefer", "").lower()


def expect_follower(job_id: str) -> None:
    """Registered with ``enqueue.observe_sends``: a job sent while answering a request that may follow it
    (any but ``Prefer: respond-async``) is followed from before its first event."""
    if has_request_context() and not wants_async():
        get_relay().expect(job_id)


def accepted(job: Job) -> Response:
    response = jsonify(job_summary(job))
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Preference-Applied"] = "respond-async"
    return response


def wants_stream() -> bool:
    """The client asked for the job's events (``Accept: text/event-stream`` preferred over JSON)."""
    return request.accept_mimetypes.best_match(("application/json", "text/event-stream")) == "text/event-stream"


def result_or_accepted(job: Job, timeout: float, render: Callable[[Any], Response] = jsonify) -> Response:
    """The job's result as an ordinary response once it ends (within ``timeout`` seconds); its error as
    ``{"detail"}`` with the job's status code; 202 with the job id when the client sent
    ``Prefer: respond-async`` or the job is still running at the deadline; or, with
    ``Accept: text/event-stream``, the job's event stream itself (enqueue and follow in one request)."""
    if wants_async():
        return accepted(job)
    if wants_stream():
        release_session()
        return sse_response(job)
    deadline = time.monotonic() + timeout
    outcome: dict[str, Any] = {}
    for event in follow(job, keepalive=max(0.01, min(1.0, timeout))):
        if event is not None:
            outcome[event.type] = event.data
            if event.terminal:
                break
        if time.monotonic() >= deadline:
            return accepted(job)
    status = outcome.get("status", {}).get("status")
    if status == "succeeded":
        result = outcome.get("result", {})
        if result.get("stored"):
            result = {"result": results.load(job)}
        return render(result.get("result"))
    if status == "cancelled":
        return json_error(409, "The job was cancelled.")
    error = outcome.get("error") or {}
    return json_error(int(error.get("status") or 500), error.get("message") or "The job failed.")
