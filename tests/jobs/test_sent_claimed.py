"""Jobs claimed ahead (``claim_ahead``): the actor starts while the worker claims the job."""
from __future__ import annotations

import time

from shared.jobs import broker, events, rows, service
from shared.jobs.broker import namespace, queue_depths
from shared.models import Job
from shared.redis_client import get_redis, key
from tests.helpers import wait_for
from tests.jobs.test_interrupts import hung_upstream
from tests.jobs.test_lifecycle import finish, new_job, row


def claimed_ahead(actor: str, status: str = "queued", **payload) -> Job:
    job = new_job(actor, **payload)
    job.options, job.status = {service.CLAIM_AHEAD: True}, status
    return job


def runs(job: Job) -> int:
    return int(get_redis().get(key("tests", job.id, "runs")) or 0)


def acked(job: Job) -> bool:
    return not get_redis().hexists(f"{namespace()}:default.msgs", job.id)


def test_the_actor_starts_before_the_row_is_in_and_running_is_still_announced_first(worker):
    job = claimed_ahead("tests.slow_once", seconds=0)
    broker.send(service.message_for(job))
    wait_for(lambda: runs(job) == 1, "the actor never started", 10)  # its first event waits for the claim
    time.sleep(0.2)
    assert events.read_after(job.id, None) == []
    rows.insert_job(job)
    seen = finish(job.id)
    assert [(e.type, e.data) for e in seen[:2]] == [("status", {"status": "running"}), ("delta", {"run": 1})]
    assert seen[-1].data == {"status": "succeeded"}
    assert (row(job.id).status, row(job.id).attempts) == ("succeeded", 1)


def test_a_quiet_job_is_announced_running_once_claimed(worker):
    """The supervisor's periodic flush does not publish (or wait) while the claim is still under way."""
    job = claimed_ahead("tests.quiet", seconds=1.0)
    broker.send(service.message_for(job))
    time.sleep(0.4)
    assert events.read_after(job.id, None) == []
    rows.insert_job(job)
    assert [e.data.get("status") for e in finish(job.id) if e.type == "status"] == ["running", "succeeded"]


def test_a_delivery_whose_claim_fails_leaves_no_trace(worker):
    dead_before = queue_depths(["default"])["default"]["dead"]
    job = claimed_ahead("tests.slow_once", status="cancelled", seconds=0)
    rows.insert_job(job)
    broker.send(service.message_for(job))
    wait_for(lambda: runs(job) == 1 and acked(job), "the delivery never ran and ended", 10)
    time.sleep(0.3)
    assert runs(job) == 1  # not retried
    assert events.read_after(job.id, None) == []
    assert (row(job.id).status, row(job.id).attempts, row(job.id).started_at) == ("cancelled", 0, None)
    assert queue_depths(["default"])["default"]["dead"] == dead_before


def test_a_failed_claim_closes_the_upstream_connection_at_once(worker):
    with hung_upstream() as (port, closed):
        job = claimed_ahead("tests.hang", status="succeeded", port=port)
        rows.insert_job(job)
        sent = time.monotonic()
        broker.send(service.message_for(job))
        wait_for(lambda: closed, "the upstream connection was never closed")
        assert closed[0] - sent < 1.0
        wait_for(lambda: acked(job), "the message was never acked", 10)
    assert events.read_after(job.id, None) == []
    assert (row(job.id).status, row(job.id).attempts) == ("succeeded", 0)
