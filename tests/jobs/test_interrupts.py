"""Cancellation and time limits stop a job that is blocked reading from a hung upstream."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

from shared.db import session_scope
from shared.jobs import service
from shared.jobs.enqueue import enqueue, message_for
from shared.models import Job, User
from tests.jobs.test_lifecycle import finish, row, run


@contextmanager
def hung_upstream():
    """A loopback server that accepts connections and never answers; records when each client goes away."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    closed: list[float] = []
    stop = threading.Event()

    def serve() -> None:
        connections = []
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.settimeout(0.05)
                connections.append(conn)
            except TimeoutError:
                pass
            for conn in list(connections):
                try:
                    if conn.recv(4096) == b"":
                        closed.append(time.monotonic())
                        connections.remove(conn)
                        conn.close()
                except TimeoutError:
                    pass
        for conn in connections:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], closed
    finally:
        stop.set()
        thread.join(5)
        server.close()


def wait_running(job_id: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while row(job_id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_hung_upstream_hits_the_time_limit(worker):
    with hung_upstream() as (port, closed):
        with session_scope() as session:
            job_id = enqueue(session, actor="tests.hang", queue="default", kind="tests.hang",
                             owner_id=None, payload={"port": port}, options={"time_limit": 1000}).id
        started = time.monotonic()
        seen = finish(job_id)
        assert 0.9 < time.monotonic() - started < 5
        assert seen[-2].data == {"type": "time_limit", "message": "The job exceeded its time limit (1 s).",
                                 "status": 504}
        job = row(job_id)
        assert (job.status, job.attempts) == ("failed", 1)  # a time limit is not retried
        deadline = time.monotonic() + 2
        while not closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert closed, "the upstream connection was left open"


def test_cancel_stops_a_blocked_read_within_a_second(worker, admin):
    with hung_upstream() as (port, closed):
        job_id = run("tests.hang", port=port)
        wait_running(job_id)
        time.sleep(0.2)
        with session_scope() as session:
            user = session.get(User, admin["id"])
            requested = time.monotonic()
            service.cancel(session, job_id, user)
        seen = finish(job_id)
        assert seen[-1].data == {"status": "cancelled"}
        assert time.monotonic() - requested < 1.0
        assert [e.type for e in seen].count("error") == 0
        deadline = time.monotonic() + 1
        while not closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert closed and closed[0] - requested < 1.0
        assert row(job_id).attempts == 1


def test_cancelled_queued_job_never_starts(worker, admin):
    with session_scope() as session:
        user = session.get(User, admin["id"])
        job = Job(actor="tests.echo", queue="default", kind="tests.echo", owner_id=user.id, payload={},
                  options={}, status="queued", progress=0.0, progress_message="", attempts=0)
        session.add(job)
        session.commit()
        service.cancel(session, job.id, user)
        # Its message is delivered anyway (as after a race): the worker must skip it.
        from shared.jobs import broker

        broker.send(message_for(job))
    time.sleep(0.5)
    stored = row(job.id)
    assert (stored.status, stored.attempts, stored.started_at) == ("cancelled", 0, None)
