"""Jobs claimed by their sender (``claim_ahead``): the row goes in claimed for the message's first
delivery, which runs without a claim of its own; later deliveries claim as any delivery does."""
from __future__ import annotations

import time

from dramatiq.common import current_millis

from shared.db import session_scope
from shared.jobs import broker, events, rows, service
from shared.jobs.config import get_job_settings
from shared.jobs.enqueue import CLAIM_AHEAD, enqueue, message_for
from shared.models import Job
from shared.redis_client import get_redis, key
from tests.helpers import wait_for
from tests.jobs.test_interrupts import hung_upstream
from tests.jobs.test_lifecycle import finish, new_job, row
from tests.jobs.worker import IDLE_QUEUE


def sent_claimed(actor: str, **payload) -> Job:
    """A job whose row is (to be) inserted as ``enqueue`` inserts one with ``claim_ahead``."""
    job = new_job(actor, **payload)
    job.options, job.status, job.attempts, job.started_at = {CLAIM_AHEAD: True}, "running", 1, job.created_at
    return job


def send(job: Job, *, age_ms: int = 0) -> None:
    """Send the job's message as its sender does (``sent_claimed``), ``age_ms`` after it was first sent."""
    message = message_for(job, sent_claimed=True)
    broker.send(message.copy(message_timestamp=current_millis() - age_ms) if age_ms else message)


def runs(job: Job) -> int:
    return int(get_redis().get(key("tests", job.id, "runs")) or 0)


def test_enqueue_inserts_the_row_claimed_and_sends_the_message_marked():
    with session_scope() as session:
        # on a queue the module's worker does not consume: the row is seen as its sender left it
        job = enqueue(session, actor="tests.echo", queue=IDLE_QUEUE, kind="test", owner_id=None,
                      payload={"value": 1}, options={CLAIM_AHEAD: True})
    stored = row(job.id)
    assert (stored.status, stored.attempts, stored.message_id) == ("running", 1, None)
    assert stored.started_at == stored.created_at


def test_the_first_delivery_runs_before_the_row_is_in_and_the_outcome_waits_for_it(worker):
    job = sent_claimed("tests.slow_once", seconds=0)
    send(job)
    # It ran with no claim: its events are out before there is a row to claim.
    wait_for(lambda: len(events.read_after(job.id, None)) >= 2, "the actor never published", 10)
    assert [(e.type, e.data) for e in events.read_after(job.id, None)][:2] == [
        ("status", {"status": "running"}), ("delta", {"run": 1})]
    time.sleep(0.2)
    rows.insert_job(job)
    assert finish(job.id)[-1].data == {"status": "succeeded"}
    stored = row(job.id)
    assert (stored.status, stored.attempts, stored.message_id) == ("succeeded", 1, None)
    assert stored.result == {"runs": 1}


def test_a_late_delivery_claims_the_row_its_sender_claimed(worker):
    """Older than half the redelivery timeout it may be a redelivery (its worker died): it claims."""
    job = sent_claimed("tests.slow_once", seconds=0)
    rows.insert_job(job)
    send(job, age_ms=get_job_settings().redelivery_timeout_ms)
    assert finish(job.id)[-1].data == {"status": "succeeded"}
    stored = row(job.id)
    assert stored.status == "succeeded" and stored.message_id is not None and stored.attempts == 2


def test_a_late_delivery_of_a_job_that_ended_meanwhile_is_skipped(worker):
    job = sent_claimed("tests.slow_once", seconds=0)
    job.status = "failed"
    rows.insert_job(job)
    send(job, age_ms=get_job_settings().redelivery_timeout_ms)
    wait_for(lambda: not get_redis().hexists(f"{broker.namespace()}:default.msgs", job.id),
             "the message was never acked", 10)
    assert runs(job) == 0
    assert row(job.id).status == "failed"


def test_cancelling_a_job_its_sender_claimed_stops_its_delivery(worker):
    with hung_upstream() as (port, closed):
        job = sent_claimed("tests.hang", port=port)
        rows.insert_job(job)
        send(job)
        wait_for(lambda: events.read_after(job.id, None)[-1:] and
                 events.read_after(job.id, None)[-1].data.get("status") == "running", "never announced running")
        with session_scope() as session:
            service.request_cancel(session, session.get(Job, job.id))
        wait_for(lambda: closed, "the upstream connection was never closed")
    assert finish(job.id)[-1].data == {"status": "cancelled"}
    assert row(job.id).status == "cancelled"
