"""The running job's event publishing: held events go first, and nothing to publish sends nothing."""
from __future__ import annotations

import uuid

from shared.jobs import events
from shared.jobs.current import RunningJob
from shared.redis_client import get_redis


def test_held_events_go_first_in_the_next_publish():
    job = RunningJob(job_id=f"test-{uuid.uuid4().hex}", held=[("status", {"status": "running"})])
    ids = job.publish([("delta", {"n": 1})])
    logged = events.read_after(job.job_id, None)
    assert [(e.type, e.data) for e in logged] == [("status", {"status": "running"}), ("delta", {"n": 1})]
    assert ids == [logged[1].id] and job.held == []


def test_a_publish_with_nothing_to_send_sends_nothing():
    """A supervisor flush that lost the race to the job's own publish: no empty announcement, no log."""
    job = RunningJob(job_id=f"test-{uuid.uuid4().hex}", held=[("status", {"status": "running"})])
    job.take_held()
    listener = get_redis().pubsub()
    listener.subscribe(events.channel(job.job_id))
    assert listener.get_message(timeout=1)["type"] == "subscribe"
    try:
        assert job.publish([]) == []
        job.flush()
        assert listener.get_message(timeout=0.3) is None
        assert not events.log_exists(job.job_id)
    finally:
        listener.close()
