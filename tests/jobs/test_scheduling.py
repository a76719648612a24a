"""The scheduler sends each periodic message once per period, however many run; the sweep re-sends
jobs whose message never left."""
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
from tests.jobs.worker import ROOT
from workers import scheduler


def queued_actors(queues: tuple[str, ...] = ("default",)) -> list[str]:
    """Actor names of the messages waiting on the queues, in order."""
    client = get_redis()
    namespace = broker.namespace()
    return [json.loads(client.hget(f"{namespace}:{queue}.msgs", message_id))["actor_name"]
            for queue in queues for message_id in client.lrange(f"{namespace}:{queue}", 0, -1)]


def test_two_schedulers_send_each_slot_once():
    schedule = (scheduler.Periodic("system.noop", "default", 10), scheduler.Periodic("system.prune_jobs", "default", 60))
    start = 1_000_000_000.0
    assert scheduler.tick(schedule, now=start) == ["system.noop", "system.prune_jobs"]
    assert scheduler.tick(schedule, now=start + 1) == []          # the other scheduler, same slots
    assert scheduler.tick(schedule, now=start + 10) == ["system.noop"]
    assert queued_actors() == ["system.noop", "system.prune_jobs", "system.noop"]


def test_scheduler_processes_started_twice_send_once():
    queues = tuple(sorted({entry.queue for entry in scheduler.SCHEDULE}))
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
    assert sorted(queued_actors(queues)) == sorted(entry.actor for entry in scheduler.SCHEDULE)
    assert all(process.returncode == 0 for process in processes)


def test_sweep_resends_a_job_whose_message_was_never_sent(worker):
    with session_scope() as session:
        job = Job(actor="tests.echo", queue="default", kind="tests.echo", owner_id=None, payload={"value": 5},
                  options={}, status="queued", progress=0.0, progress_message="", attempts=0,
                  created_at=now() - 120, updated_at=now() - 120)
        session.add(job)
        fresh = Job(actor="tests.echo", queue="default", kind="tests.echo", owner_id=None, payload={},
                    options={}, status="queued", progress=0.0, progress_message="", attempts=0)
        session.add(fresh)
        session.commit()
        assert service.resend_stale(session) == 1
    seen = finish(job.id)
    assert seen[-2].data["result"] == {"echo": 5}
    assert row(job.id).status == "succeeded"
    assert row(fresh.id).status == "queued"  # too young to be considered lost
