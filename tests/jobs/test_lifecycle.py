"""Jobs run by a real worker: status, results, events, retries, errors and time limits."""
from __future__ import annotations

import threading
import time

from shared.db import session_scope
from shared.jobs import broker, events, rows, service
from shared.jobs.enqueue import enqueue, mark_sent, message_for, sent_key
from shared.models import Job
from shared.models.base import new_id, now
from shared.redis_client import get_redis, key
from workers.lifecycle import JobLifecycle


def run(actor: str, **payload) -> str:
    with session_scope() as session:
        return enqueue(session, actor=actor, queue="default", kind=actor, owner_id=None,
                       payload=payload).id


def finish(job_id: str, timeout: float = 15) -> list[events.JobEvent]:
    """Every event of the job up to its final status (bounded)."""
    seen = []
    deadline = time.monotonic() + timeout
    for event in events.iter_events(job_id, keepalive=0.2):
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {seen}"
        if event is not None:
            seen.append(event)
    return seen


def row(job_id: str) -> Job:
    with session_scope() as session:
        return session.get(Job, job_id)


def test_result_and_events_in_order(worker):
    job_id = run("tests.echo", value="hi", deltas=3)
    seen = finish(job_id)
    assert [e.type for e in seen] == ["status", "status", "delta", "delta", "delta", "result", "status"]
    assert [e.data.get("status") for e in seen if e.type == "status"] == ["queued", "running", "succeeded"]
    assert [e.data["index"] for e in seen if e.type == "delta"] == [0, 1, 2]
    assert seen[-2].data["result"] == {"echo": "hi"}
    job = row(job_id)
    assert (job.status, job.result, job.attempts, job.progress) == ("succeeded", {"echo": "hi"}, 1, 1.0)
    assert job.started_at and job.finished_at
    assert 0 < get_redis().ttl(events.stream_key(job_id)) <= 24 * 3600


def test_a_quiet_job_is_seen_running_while_it_runs(worker):
    """The ``running`` status waits for the job's first output, but not past the supervisor's next check."""
    job_id = run("tests.quiet", seconds=1.5)
    deadline = time.monotonic() + 1.0
    statuses: list[str] = []
    while "running" not in statuses and time.monotonic() < deadline:
        statuses = [e.data["status"] for e in events.read_after(job_id, None) if e.type == "status"]
        time.sleep(0.02)
    assert statuses == ["queued", "running"], statuses
    assert [e.data.get("status") for e in finish(job_id) if e.type == "status"] == ["queued", "running", "succeeded"]


def test_enqueue_after_redis_lost_its_scripts(worker):
    """The enqueue pipeline names its Lua scripts by SHA; a Redis that forgot them (restart, SCRIPT
    FLUSH) gets them loaded again and the job runs once."""
    get_redis().script_flush()
    job_id = run("tests.echo", value="again")
    seen = finish(job_id)
    assert [e.data.get("status") for e in seen if e.type == "status"][-2:] == ["running", "succeeded"]
    assert row(job_id).attempts == 1


def test_transient_failures_are_retried_with_backoff(worker):
    job_id = run("tests.flaky", failures=2)
    started = time.monotonic()
    seen = finish(job_id)
    assert seen[-1].data == {"status": "succeeded"}
    assert time.monotonic() - started >= 0.2  # two backoffs of at least 100 ms
    job = row(job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 3, {"runs": 3})
    assert [e.data["message"] for e in seen if e.type == "progress"] == ["Retrying: upstream answered 503"] * 2


def test_retries_are_bounded_then_dead_lettered(worker):
    job_id = run("tests.flaky", failures=10)
    seen = finish(job_id, timeout=20)
    assert seen[-2].type == "error" and seen[-1].data == {"status": "failed"}
    job = row(job_id)
    assert (job.status, job.attempts) == ("failed", 4)
    assert job.error == {"type": "upstream", "message": "upstream answered 503", "status": 502}


def test_permanent_failures_fail_at_once(worker):
    job_id = run("tests.flaky", failures=1, permanent=True)
    seen = finish(job_id)
    assert seen[-2].data == {"type": "BadRequest", "message": "bad input", "status": 400}
    assert row(job_id).attempts == 1
    assert get_redis().get(key("tests", job_id, "runs")) == "1"


def test_unexpected_errors_hide_the_trace_from_events(worker):
    job_id = run("tests.crash")
    seen = finish(job_id)
    assert seen[-2].data == {"type": "internal", "message": "The job failed unexpectedly.", "status": 500}
    assert "secret internal detail" in row(job_id).error["detail"]


def test_connection_refused_is_a_clear_upstream_error(worker):
    job_id = run("tests.http", url="http://127.0.0.1:9/")
    seen = finish(job_id)
    assert seen[-2].data["type"] == "upstream" and seen[-2].data["status"] == 502


def test_large_results_are_stored_in_a_file(worker):
    from shared.config import get_settings
    from shared.jobs import results

    big = "x" * 300_000
    job_id = run("tests.echo", value=big)
    seen = finish(job_id)
    assert seen[-2].data == {"result": None, "stored": True}
    job = row(job_id)
    assert job.result is None and job.result_path == f"job-results/{job_id}.json"
    assert (get_settings().data_dir / job.result_path).stat().st_size > 300_000
    assert results.load(job) == {"echo": big}


def test_prune_deletes_only_old_finished_jobs():
    from shared.models.base import now

    with session_scope() as session:
        old = now() - 40 * 86400
        for status, finished in (("succeeded", old), ("failed", old), ("running", None), ("succeeded", now())):
            session.add(Job(actor="a", queue="default", kind="k", owner_id=None, payload={}, options={},
                            status=status, progress=0.0, progress_message="", attempts=1,
                            created_at=old, updated_at=old, finished_at=finished))
        session.commit()
        assert service.prune_finished(session) == 2
        assert sorted(j.status for j in session.query(Job).all()) == ["running", "succeeded"]


def test_worker_reconnects_after_the_database_drops_its_connections(worker):
    import psycopg

    from tests.conftest import PG_ADMIN_URL, TEST_DB

    # Jobs at once, so that the worker's pools hold several connections, all of which the database drops.
    for job_id in [run("tests.echo", value=i) for i in range(8)]:
        assert finish(job_id)[-1].data == {"status": "succeeded"}
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        dropped = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", (TEST_DB,)).fetchone()[0]
    assert dropped >= 1
    job_id = run("tests.echo", value=2)
    assert finish(job_id)[-1].data == {"status": "succeeded"}
    assert row(job_id).result == {"echo": 2}


def new_job(actor: str, **payload) -> Job:
    stamp = now()
    return Job(id=new_id(), actor=actor, queue="default", kind=actor, owner_id=None, payload=payload, options={},
               related_type=None, related_id=None, parent_id=None, status="queued", progress=0.0,
               progress_message="", attempts=0, error=None, result=None, result_path=None, message_id=None,
               created_at=stamp, updated_at=stamp, started_at=None, finished_at=None)


def test_a_message_that_overtakes_its_row_runs_once_the_row_is_in(worker):
    """The enqueue sends the message first and inserts the row meanwhile; a worker that is quicker waits."""
    job = new_job("tests.echo", value="late row")
    broker.send(message_for(job))
    time.sleep(0.3)
    rows.insert_job(job)
    assert finish(job.id)[-2].data["result"] == {"echo": "late row"}
    assert row(job.id).attempts == 1


def test_a_claim_waits_for_a_row_inserted_meanwhile():
    job = new_job("tests.echo")
    threading.Timer(0.1, rows.insert_job, [job]).start()
    assert JobLifecycle.claim(job.id, "delivery-1", row_wait=5)
    assert (row(job.id).status, row(job.id).message_id) == ("running", "delivery-1")


def test_a_message_whose_row_never_comes_is_skipped_and_left_to_the_sweep():
    job = new_job("tests.echo")
    mark_sent(job.id)
    started = time.monotonic()
    assert not JobLifecycle.claim(job.id, "delivery-1", row_wait=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    assert not get_redis().exists(sent_key(job.id))  # a row inserted after all is sent again


def test_a_job_that_is_not_waiting_is_not_claimed_without_waiting():
    job = new_job("tests.echo")
    job.status = "succeeded"
    rows.insert_job(job)
    started = time.monotonic()
    assert not JobLifecycle.claim(job.id, "delivery-1", row_wait=5)
    assert time.monotonic() - started < 1
