"""``/api/v1/jobs`` and Open WebUI's ``/api/tasks`` against a real worker."""
from __future__ import annotations

import json
import time

import pytest

from shared.db import session_scope
from shared.jobs import enqueue as protocol
from shared.jobs import service
from shared.models import Job, User
from tests.helpers import bearer
from tests.jobs.worker import worker  # noqa: F401  (the fixture)


def enqueue(owner_id: str, actor: str = "tests.echo", related: str | None = None, **payload) -> str:
    with session_scope() as session:
        return protocol.enqueue(session, actor=actor, queue="default", kind=actor, owner_id=owner_id,
                                payload=payload, related_type="chat" if related else None,
                                related_id=related).id


def sse_events(response, limit: int = 200) -> list[dict]:
    """Parse a text/event-stream body into ``{id, event, data}`` frames (bounded)."""
    frames, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            if fields:
                frames.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})
        assert len(frames) < limit
    return frames


def wait_status(job_id: str, statuses: tuple[str, ...], timeout: float = 10) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            job = session.get(Job, job_id)
            if job.status in statuses:
                return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} stayed {job.status}")


def test_get_list_and_someone_elses_job_is_404(app, client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    job_id = enqueue(alice["id"], value=1)
    wait_status(job_id, ("succeeded",))
    enqueue(bob["id"], value=2)

    got = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(alice["token"]))
    assert got.status_code == 200
    body = got.get_json()
    assert body["status"] == "succeeded" and body["result"] == {"echo": 1} and body["owner_id"] == alice["id"]

    assert client.get(f"/api/v1/jobs/{job_id}", headers=bearer(bob["token"])).status_code == 404
    assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=bearer(bob["token"])).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(bob["token"])).status_code == 404
    assert client.get("/api/v1/jobs/nope", headers=bearer(alice["token"])).status_code == 404

    mine = client.get("/api/v1/jobs/", headers=bearer(alice["token"])).get_json()
    assert [j["id"] for j in mine["items"]] == [job_id] and mine["total"] == 1
    everything = client.get("/api/v1/jobs/?limit=1", headers=bearer(admin["token"])).get_json()
    assert everything["total"] == 2 and len(everything["items"]) == 1
    done = client.get("/api/v1/jobs/?status=succeeded&kind=tests.echo", headers=bearer(admin["token"]))
    assert done.get_json()["total"] >= 1
    bad = client.get("/api/v1/jobs/?status=weird", headers=bearer(admin["token"]))
    assert bad.status_code == 422 and "status" in bad.get_json()["detail"]
    assert app.test_client(use_cookies=False).get("/api/v1/jobs/").status_code == 401


def test_events_stream_and_resume_without_loss_or_duplicates(client, admin, worker):
    job_id = enqueue(admin["id"], value="x", deltas=5)
    response = client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(admin["token"]))
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    frames = sse_events(response)
    assert [f["event"] for f in frames] == ["status", "status"] + ["delta"] * 5 + ["result", "status"]
    assert frames[-1]["data"] == {"status": "succeeded"}

    # A client that reconnects after the third frame gets exactly the rest, in order.
    resumed = client.get(f"/api/v1/jobs/{job_id}/events",
                         headers={**bearer(admin["token"]), "Last-Event-ID": frames[2]["id"]})
    assert [f["id"] for f in sse_events(resumed)] == [f["id"] for f in frames[3:]]
    by_query = client.get(f"/api/v1/jobs/{job_id}/events?last_event_id={frames[-2]['id']}",
                          headers=bearer(admin["token"]))
    assert [f["event"] for f in sse_events(by_query)] == ["status"]


def test_live_stream_follows_a_running_job(client, admin, worker):
    job_id = enqueue(admin["id"], actor="system.sleep", seconds=0.6, steps=3)
    frames = sse_events(client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(admin["token"])))
    assert [f["data"]["progress"] for f in frames if f["event"] == "progress"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert frames[-1]["data"] == {"status": "succeeded"}


def test_expired_log_is_rebuilt_from_the_row(client, admin, worker):
    from shared.jobs import events
    from shared.redis_client import get_redis

    job_id = enqueue(admin["id"], value=7)
    wait_status(job_id, ("succeeded",))
    deadline = time.monotonic() + 10  # the row is written first, then the events announce it
    while events.read_after(job_id, None)[-1:] != [] and time.monotonic() < deadline:
        if events.read_after(job_id, None)[-1].data == {"status": "succeeded"}:
            break
        time.sleep(0.02)
    get_redis().delete(events.stream_key(job_id))
    frames = sse_events(client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(admin["token"])))
    assert [(f["event"], f["data"]) for f in frames] == [
        ("result", {"result": {"echo": 7}, "stored": False}), ("status", {"status": "succeeded"})]


def test_cancel_running_then_retry_dead_letter(client, make_user, worker):
    alice = make_user("alice@example.com")
    job_id = enqueue(alice["id"], actor="system.sleep", seconds=30, steps=300)
    wait_status(job_id, ("running",))
    started = time.monotonic()
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=bearer(alice["token"]))
    assert cancelled.status_code == 200
    job = wait_status(job_id, ("cancelled",), timeout=5)
    assert time.monotonic() - started < 1.0
    assert job.error is None

    again = client.post(f"/api/v1/jobs/{job_id}/retry", headers=bearer(alice["token"]))
    assert again.status_code == 200 and again.get_json()["status"] == "queued"
    wait_status(job_id, ("running",))
    client.post(f"/api/v1/jobs/{job_id}/cancel", headers=bearer(alice["token"]))
    wait_status(job_id, ("cancelled",))

    done = enqueue(alice["id"], value=1)
    wait_status(done, ("succeeded",))
    conflict = client.post(f"/api/v1/jobs/{done}/retry", headers=bearer(alice["token"]))
    assert conflict.status_code == 409 and "succeeded" in conflict.get_json()["detail"]


def test_failed_job_error_is_redacted_for_owner_not_admin(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    job_id = enqueue(alice["id"], actor="tests.crash")
    wait_status(job_id, ("failed",))
    owner_view = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(alice["token"])).get_json()
    assert owner_view["error"] == {"type": "internal", "message": "The job failed unexpectedly.", "status": 500}
    admin_view = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(admin["token"])).get_json()
    assert "secret internal detail" in admin_view["error"]["detail"]
    retried = client.post(f"/api/v1/jobs/{job_id}/retry", headers=bearer(admin["token"]))
    assert retried.status_code == 200
    assert wait_status(job_id, ("failed",)).attempts == 2


def test_open_webui_task_routes(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    created = client.post("/api/v1/chats/new", json={"chat": {"title": "t", "messages": []}},
                          headers=bearer(alice["token"]))
    assert created.status_code == 200, created.get_json()
    chat = created.get_json()["id"]
    first = enqueue(alice["id"], actor="system.sleep", related=chat, seconds=30, steps=300)
    second = enqueue(alice["id"], actor="system.sleep", related=chat, seconds=30, steps=300)
    wait_status(first, ("running",))

    listed = client.get("/api/tasks", headers=bearer(admin["token"]))
    assert listed.status_code == 200 and set(listed.get_json()["tasks"]) == {first, second}
    assert client.get("/api/tasks", headers=bearer(alice["token"])).status_code == 401

    assert sorted(client.get(f"/api/tasks/chat/{chat}", headers=bearer(alice["token"])).get_json()["task_ids"]) == \
        sorted([first, second])
    assert client.get(f"/api/tasks/chat/{chat}", headers=bearer(bob["token"])).get_json() == {"task_ids": []}
    assert client.post(f"/api/tasks/chat/{chat}/stop", headers=bearer(bob["token"])).status_code == 404

    stopped = client.post(f"/api/tasks/stop/{first}", headers=bearer(admin["token"]))
    assert stopped.get_json() == {"status": True, "message": f"Task {first} stopped."}
    assert wait_status(first, ("cancelled",)).status == "cancelled"
    assert client.post("/api/tasks/stop/unknown", headers=bearer(admin["token"])).get_json() == {
        "status": False, "message": "Task with ID unknown not found."}

    assert client.post(f"/api/tasks/chat/{chat}/stop", headers=bearer(alice["token"])).get_json() == {
        "status": True, "message": f"All tasks for item {chat} stopped."}
    wait_status(second, ("cancelled",))
    assert client.get(f"/api/tasks/chat/{chat}", headers=bearer(alice["token"])).get_json() == {"task_ids": []}
    assert client.post(f"/api/tasks/chat/{chat}/stop", headers=bearer(alice["token"])).get_json() == {
        "status": True, "message": f"No tasks found for item {chat}."}


def test_result_or_accepted(app, admin, worker):
    from web.streaming.responses import result_or_accepted

    with session_scope() as session:
        user = session.get(User, admin["id"])
    fast = enqueue(admin["id"], value="ok")
    slow = enqueue(admin["id"], actor="system.sleep", seconds=2, steps=2)
    failing = enqueue(admin["id"], actor="tests.flaky", failures=1, permanent=True)
    with session_scope() as session:
        jobs = {job_id: service.get_job(session, job_id, user) for job_id in (fast, slow, failing)}

    with app.test_request_context():
        response = result_or_accepted(jobs[fast], timeout=10)
        assert (response.status_code, response.get_json()) == (200, {"echo": "ok"})
        started = time.monotonic()
        response = result_or_accepted(jobs[slow], timeout=0.3)
        assert response.status_code == 202 and response.get_json()["job_id"] == slow
        assert time.monotonic() - started < 1.5
        response = result_or_accepted(jobs[failing], timeout=10)
        assert (response.status_code, response.get_json()) == (400, {"detail": "bad input"})
    with app.test_request_context(headers={"Prefer": "respond-async"}):
        response = result_or_accepted(jobs[fast], timeout=10)
        assert response.status_code == 202 and response.headers["Location"] == f"/api/v1/jobs/{fast}"


def test_enqueue_and_stream_in_one_request(client, admin, worker):
    """``Accept: text/event-stream`` on a route that runs a job answers the job's whole event stream."""
    response = client.post("/api/v1/jobs/probe", json={},
                           headers={**bearer(admin["token"]), "Accept": "text/event-stream"})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    frames = sse_events(response)
    assert [f["event"] for f in frames] == ["status", "status", "result", "status"]
    assert frames[2]["data"]["result"] == {"ok": True} and frames[-1]["data"] == {"status": "succeeded"}
    # JSON stays the answer for clients that accept both (or anything).
    both = client.post("/api/v1/jobs/probe", json={},
                       headers={**bearer(admin["token"]), "Accept": "application/json, text/event-stream"})
    assert (both.status_code, both.get_json()) == (200, {"ok": True})


def test_stats_for_admins(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    wait_status(enqueue(alice["id"], value=1), ("succeeded",))
    wait_status(enqueue(alice["id"], actor="tests.crash"), ("failed",))
    assert client.get("/api/v1/jobs/stats", headers=bearer(alice["token"])).status_code == 401
    stats = client.get("/api/v1/jobs/stats", headers=bearer(admin["token"])).get_json()
    assert stats["jobs"] == {"queued": 0, "running": 0, "succeeded": 1, "failed": 1, "cancelled": 0}
    assert stats["queues"]["default"] == {"waiting": 0, "delayed": 0, "dead": 1}
    assert set(stats["queues"]) >= {"llm", "files", "embeddings"} and stats["poisoned"] == 0


def test_final_events_lost_with_redis_are_rebuilt_from_the_row(app, admin, monkeypatch):
    """The worker wrote the outcome to the row, but Redis went away before the final events."""
    from shared.jobs import events
    from shared.models.base import now
    from web.streaming import responses
    from web.streaming.responses import result_or_accepted

    monkeypatch.setattr(responses, "ROW_CHECK_INTERVAL", 0.5)

    with session_scope() as session:
        job = Job(actor="tests.echo", queue="default", kind="k", owner_id=admin["id"], payload={}, options={},
                  status="succeeded", progress=1.0, progress_message="", attempts=1, result={"echo": 3},
                  finished_at=now() - 10)
        session.add(job)
        session.commit()
    events.publish(job.id, "status", {"status": "running"})
    with app.test_request_context():
        started = time.monotonic()
        response = result_or_accepted(job, timeout=5)
    assert (response.status_code, response.get_json()) == (200, {"echo": 3})
    assert time.monotonic() - started < 3
