"""The scheduler sends each periodic message once per period, however many run; lost jobs are failed.
No worker runs in this module: the tests read the queues as the schedulers left them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from shared.db import session_scope
from shared.jobs import broker, service
from shared.models import Job
from shared.models.base import now
from shared.redis_client import get_redis
from tests.jobs.test_lifecycle import finish, row
from tests.jobs.worker import IDLE_QUEUE, ROOT
from workers import scheduler


def queued_actors(queues: tuple[str, ...] = ("default",)) -> list[str]:
    """Actor names of the messages waiting on the queues, in order."""
    client = get_redis()
    namespace = broker.namespace()
    return [json.loads(client.hget(f"{namespace}:{queue}.msgs", message_id))["actor_name"]
            for queue in queues for message_id in client.lrange(f"{namespace}:{queue}", 0, -1)]


def test_two_schedulers_send_each_slot_once():
    schedule = (scheduler.Periodic("system.noop", IDLE_QUEUE, 10),
                scheduler.Periodic("system.prune_jobs", IDLE_QUEUE, 60))
    start = 1_000_000_000.0
    assert scheduler.tick(schedule, now=start) == ["system.noop", "system.prune_jobs"]
    assert scheduler.tick(schedule, now=start + 1) == []          # the other scheduler, same slots
    assert scheduler.tick(schedule, now=start + 10) == ["system.noop"]
    assert queued_actors((IDLE_QUEUE,)) == ["system.noop", "system.prune_jobs", "system.noop"]


def test_scheduler_processes_started_twice_send_once():
    queues = tuple(sorted({entry.queue for entry in scheduler.SCHEDULE}))
    started = time.time()
    processes = [subprocess.Popen([sys.executable, "-m", "workers.scheduler"], cwd=ROOT, env=os.environ.copy(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        deadline = time.monotonic() + 15
        while len(queued_actors(queues)) < len(scheduler.SCHEDULE):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.5)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
    ended = time.time()
    sent = queued_actors(queues)
    for entry in scheduler.SCHEDULE:
        # One message per period slot, however many schedulers run; a slowed-down run may span two slots.
        slots = int(ended // entry.every) - int(started // entry.every) + 1
        assert 1 <= sent.count(entry.actor) <= slots, (entry.actor, sent, slots)
    assert all(process.returncode == 0 for process in processes)


def test_running_jobs_whose_outcome_was_lost_fail_after_their_time_limit():
    def running(started_ago: int) -> str:
        with session_scope() as session:
            job = Job(actor="tests.echo", queue="default", kind="tests.echo", owner_id=None, payload={},
                      options={}, status="running", progress=0.0, progress_message="", attempts=1,
                      created_at=now() - started_ago, started_at=now() - started_ago)
            session.add(job)
            session.commit()
            return job.id

    lost, alive = running(started_ago=1000), running(started_ago=300)
    with session_scope() as session:
        assert service.fail_lost(session, lambda job: 600_000) == 1
    assert row(lost).status == "failed" and row(lost).error["type"] == "lost"
    assert finish(lost)[-1].data == {"status": "failed"}
    assert row(alive).status == "running"
