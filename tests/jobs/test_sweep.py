"""The sweep on a real worker: jobs whose message never left are sent again, lost ones failed by the
sweep actor with their actor's time limit."""
from __future__ import annotations

from shared.db import session_scope
from shared.jobs import broker, service
from shared.jobs.enqueue import enqueue
from shared.models import Job
from shared.models.base import now
from tests.jobs.test_lifecycle import finish, row
from tests.jobs.test_scheduling import queued_actors
from tests.jobs.worker import IDLE_QUEUE


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
        # A job whose message did leave (it waits behind others in its queue) is not sent twice.
        waiting = enqueue(session, actor="tests.echo", queue=IDLE_QUEUE, kind="k", owner_id=None, payload={})
        waiting.updated_at = now() - 120
        session.commit()
        assert service.resend_stale(session) == 1
    seen = finish(job.id)
    assert seen[-2].data["result"] == {"echo": 5}
    assert row(job.id).status == "succeeded"
    assert row(fresh.id).status == "queued"  # too young to be considered lost
    assert queued_actors((IDLE_QUEUE,)) == ["tests.echo"]


def test_the_sweep_actor_fails_lost_jobs_with_their_actors_time_limit(worker):
    from dramatiq import Message

    with session_scope() as session:
        # tests.hang's own limit is 60 s: started 200 s ago it is lost (margin 75 s); tests.echo's is 10 min.
        hung = Job(actor="tests.hang", queue="default", kind="k", owner_id=None, payload={}, options={},
                   status="running", progress=0.0, progress_message="", attempts=1, started_at=now() - 200)
        echo = Job(actor="tests.echo", queue="default", kind="k", owner_id=None, payload={}, options={},
                   status="running", progress=0.0, progress_message="", attempts=1, started_at=now() - 200)
        session.add_all([hung, echo])
        session.commit()
    broker.send(Message(queue_name="default", actor_name="system.resend_stale_jobs", args=(), kwargs={},
                        options={}))
    assert finish(hung.id)[-1].data == {"status": "failed"}
    assert row(echo.id).status == "running"
