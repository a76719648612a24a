"""Faults with real processes: a worker killed mid-job, Redis restarted under web and worker,
and a message that cannot be decoded."""
from __future__ import annotations

import threading
import time

import requests

from shared.db import session_scope
from shared.jobs import broker, events
from shared.jobs import enqueue as protocol
from shared.models import Job
from shared.redis_client import get_redis
from tests.e2e.processes import free_port, private_redis, web_server
from tests.jobs.worker import WorkerProcess, running_worker

FAST_REDELIVERY = {"JOB_REDELIVERY_TIMEOUT_MS": "2000", "JOB_MAINTENANCE_INTERVAL_MS": "250"}


def enqueue(actor: str, **payload) -> str:
    with session_scope() as session:
        return protocol.enqueue(session, actor=actor, queue="default", kind=actor, owner_id=None,
                                payload=payload).id


def test_worker_killed_mid_job_is_redelivered_and_finishes_once():
    first = WorkerProcess(env=FAST_REDELIVERY)
    try:
        first.wait_ready()
        job_id = enqueue("tests.slow_once", seconds=1.0)
        for event in events.iter_events(job_id, keepalive=0.2):
            if event is not None and event.type == "delta":
                break
        first.kill()
        killed = time.monotonic()
    finally:
        first.stop()

    with running_worker(env=FAST_REDELIVERY):
        seen, redelivered = [], None
        deadline = time.monotonic() + 20
        for event in events.iter_events(job_id, keepalive=0.2):
            assert time.monotonic() < deadline, seen
            if event is None:
                continue
            seen.append(event)
            if event.type == "delta" and event.data["run"] == 2:
                redelivered = time.monotonic() - killed
    types = [e.type for e in seen]
    assert types.count("result") == 1 and [e.data for e in seen].count({"status": "succeeded"}) == 1
    assert seen[-1].data == {"status": "succeeded"}
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"runs": 2})
    # Redelivery: the redelivery timeout (2 s here) plus up to one maintenance interval and worker start.
    assert redelivered is not None and redelivered < 6, redelivered
    print(f"redelivered {redelivered:.2f} s after the kill (JOB_REDELIVERY_TIMEOUT_MS=2000)")


def test_undecodable_message_is_rejected_and_recorded():
    with running_worker():
        sender = broker.sending_broker()
        sender.do_enqueue("default", "poison-1", b"\xff this is not a message")
        sender.wake("default")
        namespace = broker.namespace()
        client = get_redis()
        deadline = time.monotonic() + 5
        while client.zscore(f"{namespace}:default.XQ", "poison-1") is None:
            assert time.monotonic() < deadline, "the poisoned message was not dead-lettered"
            time.sleep(0.05)
        recorded = client.lrange(broker.poisoned_key(), 0, -1)
        assert len(recorded) == 1 and "default" in recorded[0] and "this is not a message" in recorded[0]
        assert client.llen(f"{namespace}:default") == 0
        # The worker goes on with ordinary jobs.
        job_id = enqueue("tests.echo", value=1)
        last = list(events.iter_events(job_id, keepalive=0.5))[-1]
        assert last.data == {"status": "succeeded"}
        assert client.llen(broker.poisoned_key()) == 1  # rejected once, not redelivered




def test_redis_restart_gives_503_then_recovers_without_restarting_processes():
    port = free_port()
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    with private_redis(port) as redis_process, web_server(env) as url, running_worker(env=env):
        signup = requests.post(f"{url}/api/v1/auths/signup", timeout=10,
                               json={"name": "A", "email": "a@example.com", "password": "pw-123456"})
        headers = {"Authorization": f"Bearer {signup.json()['token']}"}
        probe = requests.post(f"{url}/api/v1/jobs/probe", json={}, headers=headers, timeout=10)
        assert (probe.status_code, probe.json()) == (200, {"ok": True})

        in_flight: dict = {}

        def slow_probe() -> None:
            in_flight["response"] = requests.post(f"{url}/api/v1/jobs/probe", json={"seconds": 3, "wait": 20},
                                                  headers=headers, timeout=30)

        waiter = threading.Thread(target=slow_probe)
        waiter.start()
        time.sleep(0.5)
        redis_process.kill()
        redis_process.wait(5)
        waiter.join(10)
        assert in_flight["response"].status_code == 503
        assert "Redis" in in_flight["response"].json()["detail"]

        down = requests.post(f"{url}/api/v1/jobs/probe", json={}, headers=headers, timeout=10)
        assert down.status_code == 503 and "Redis" in down.json()["detail"]

        with private_redis(port):
            restarted = time.monotonic()
            answers = []
            while True:
                again = requests.post(f"{url}/api/v1/jobs/probe", json={"wait": 2}, headers=headers, timeout=10)
                answers.append(again.status_code)
                if again.status_code == 200:
                    break
                assert time.monotonic() - restarted < 20, (answers, again.text)
                time.sleep(0.25)
            assert again.json() == {"ok": True}
            print(f"recovered {time.monotonic() - restarted:.1f} s after Redis came back: {answers}")
