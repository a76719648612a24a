"""Crashes of AI work with real processes (gunicorn web, ``dramatiq workers.main``, the fake Ollama): a worker
killed mid-stream and mid-background-reply (alone, and under ``workers.pool`` as the Procfile runs it), SIGTERM
during a job, a job longer than the redelivery timeout.
A killed worker's job comes back after ``JOB_REDELIVERY_TIMEOUT_MS`` (2 s here) to the next worker."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests

from shared.db import session_scope
from shared.jobs import events
from shared.jobs.events import JobEvent
from shared.models import Job
from tests.e2e.gateway_stack import CHAT, LLAMA, Stack, background_request, post, stack_env, warm
from tests.e2e.processes import web_server
from tests.e2e.test_job_faults import FAST_REDELIVERY
from tests.fakes.fixtures import fake_ollama, fake_openai, ollama_server, openai_server  # noqa: F401
from tests.helpers import bearer, wait_for
from tests.jobs.worker import WorkerProcess, running_worker

TOKENS = 20
ANSWER = " ".join(f"w{i}" for i in range(TOKENS))
TOKEN_DELAY = 0.1
"""Seconds between the fake's tokens: a reply streams for about two seconds, time to stop its worker."""


@pytest.fixture(scope="module")
def env(ollama_server, openai_server) -> dict:
    return {**stack_env(ollama_server.url, openai_server.url), **FAST_REDELIVERY}


@pytest.fixture(scope="module")
def web(database, env):
    """The web server; each test starts (and stops, or kills) its own workers."""
    with web_server(env) as url:
        yield Stack(url, worker=None)


@pytest.fixture
def auth(admin) -> dict:
    return bearer(admin["token"])


@pytest.fixture
def slow_ollama(fake_ollama):
    fake_ollama.behave(delay=TOKEN_DELAY)
    return fake_ollama


def job_row(job_id: str) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


def until_ended(job_id: str, seconds: float = 30) -> list[JobEvent]:
    """The job's events from the start until its final status (failing after ``seconds``)."""
    deadline, seen = time.monotonic() + seconds, []
    for event in events.iter_events(job_id, keepalive=0.2):
        assert time.monotonic() < deadline, [(e.type, e.data) for e in seen]
        if event is not None:
            seen.append(event)
    return seen


def until_delta(job_id: str, text: str, seconds: float = 15) -> None:
    """Wait until a ``delta`` of the job holds ``text`` (its reply has begun streaming)."""
    deadline = time.monotonic() + seconds
    for event in events.iter_events(job_id, keepalive=0.2):
        assert time.monotonic() < deadline, f"no delta with {text!r}"
        if event is not None and event.type == "delta" and text in event.text:
            return
    raise AssertionError(f"the job ended before a delta with {text!r}")


def kill_child(worker: WorkerProcess) -> None:
    """SIGKILL the worker's process that runs the jobs (its main process then stops too)."""
    [child] = worker.child_pids()
    os.kill(child, signal.SIGKILL)
    worker.process.wait(10)


def ran_once(seen: list[JobEvent]) -> None:
    """The job finished exactly once, and succeeded."""
    assert [e.type for e in seen].count("result") == 1
    assert [e.data for e in seen if e.type == "status" and e.terminal] == [{"status": "succeeded"}]


def reply_in_chat(web: Stack, auth: dict, chat_id: str, reply_id: str) -> dict:
    chat = requests.get(f"{web.url}/api/v1/chats/{chat_id}", headers=auth, timeout=10).json()["chat"]
    return chat["history"]["messages"].get(reply_id) or {}


def test_a_worker_killed_mid_stream_ends_the_clients_stream_with_an_error_and_the_job_finishes_once(
        web, env, auth, slow_ollama):
    first = WorkerProcess(modules=(), env=env)
    try:
        first.wait_ready()
        body = {"model": LLAMA, "messages": CHAT, "stream": True, "max_tokens": TOKENS}
        with requests.post(f"{web.url}/api/chat/completions", headers=auth, json=body, stream=True,
                           timeout=30) as response:
            job_id = response.headers["X-Job-Id"]
            frames = (line.decode() for line in response.iter_lines() if line and not line.startswith(b":"))
            received = [next(frames) for _ in range(3)]
            kill_child(first)
            with running_worker(modules=(), env=env):
                received += list(frames)
                seen = until_ended(job_id)
    finally:
        first.stop()
    assert received[-1] == "data: [DONE]"
    error = json.loads(received[-2][len("data: "):])["error"]
    assert error["code"] == 503 and "stopped mid-answer" in error["message"] and job_id in error["message"]
    chunks = [json.loads(frame[len("data: "):]) for frame in received[:-2]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert len(chunks) >= 3 and ANSWER.startswith(text)  # what the first attempt said, not repeated
    ran_once(seen)
    job = job_row(job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert job.result["choices"][0]["message"]["content"] == ANSWER
    assert len(slow_ollama.received("/api/chat")) == 2


def test_a_worker_killed_mid_background_reply_finishes_the_reply_once_without_an_error(web, env, auth, slow_ollama):
    first = WorkerProcess(modules=(), env=env)
    try:
        first.wait_ready()
        body, reply_id = background_request(LLAMA, "sid-crash", params={"max_tokens": TOKENS})
        started = post(web, "/api/chat/completions", auth, body).json()
        job_id, chat_id = started["task_ids"][0], started["chat_id"]
        until_delta(job_id, "w3")
        kill_child(first)
    finally:
        first.stop()
    killed = reply_in_chat(web, auth, chat_id, reply_id)
    assert not killed.get("error") and not killed.get("done")  # the killed attempt left no error, no end

    with running_worker(modules=(), env=env):
        seen = until_ended(job_id)
    ran_once(seen)
    reply = reply_in_chat(web, auth, chat_id, reply_id)
    assert (reply["content"], reply["done"], reply.get("error")) == (ANSWER, True, None)
    assert job_row(job_id).attempts == 2


def test_a_pooled_worker_process_killed_mid_reply_is_replaced_and_the_reply_finishes_once(
        web, env, auth, slow_ollama):
    """What the OOM killer does to one worker process: the pool (the Procfile's ``worker``) stays up, starts a
    new process, and that one finishes the reply once the dead one's message is delivered again."""
    with running_worker(modules=(), env=env, pool=True) as pooled:
        body, reply_id = background_request(LLAMA, "sid-pool", params={"max_tokens": TOKENS})
        started = post(web, "/api/chat/completions", auth, body).json()
        job_id, chat_id = started["task_ids"][0], started["chat_id"]
        until_delta(job_id, "w3")
        [dramatiq_main] = pooled.child_pids()
        [worker_process] = pooled.child_pids(dramatiq_main)
        os.kill(worker_process, signal.SIGKILL)
        wait_for(lambda: pooled.output().count("is ready for action") == 2, "the pool never replaced it", 30)
        assert pooled.process.poll() is None and "ended with exit code" in pooled.output()
        seen = until_ended(job_id)
        assert requests.get(f"{web.url}/health", timeout=5).ok
    ran_once(seen)
    reply = reply_in_chat(web, auth, chat_id, reply_id)
    assert (reply["content"], reply["done"], reply.get("error")) == (ANSWER, True, None)
    assert job_row(job_id).attempts == 2


@pytest.mark.parametrize("pool", [False, True], ids=["dramatiq", "pool"])
@pytest.mark.parametrize("to", ["main process", "process group"])
def test_sigterm_lets_the_running_job_finish_and_requeues_the_waiting_one(web, env, auth, slow_ollama, to, pool):
    """SIGTERM as a container runtime sends it (the main process) or as honcho, foreman and systemd do (every
    process of the group), to Dramatiq or to the pool over it: the job that runs finishes in this worker; the
    one waiting in its prefetch goes back to the queue for the next worker at once (not after the redelivery
    timeout)."""
    first = WorkerProcess(modules=(), env=env, threads=1, pool=pool)
    try:
        first.wait_ready()
        running_body, running_id = background_request(LLAMA, "sid-term", params={"max_tokens": TOKENS})
        running = post(web, "/api/chat/completions", auth, running_body).json()
        until_delta(running["task_ids"][0], "w1")
        waiting_body, waiting_id = background_request(LLAMA, "sid-term", params={"max_tokens": 3})
        waiting = post(web, "/api/chat/completions", auth, waiting_body).json()
        if to == "main process":
            first.process.send_signal(signal.SIGTERM)
        else:
            os.killpg(first.process.pid, signal.SIGTERM)
        first.process.wait(30)
        ran_once(until_ended(running["task_ids"][0], seconds=1))  # it ended before its worker did
        assert job_row(running["task_ids"][0]).attempts == 1
        assert reply_in_chat(web, auth, running["chat_id"], running_id)["content"] == ANSWER
    finally:
        first.stop()
    assert job_row(waiting["task_ids"][0]).status in ("queued", "running")
    with running_worker(modules=(), env=env):
        ran_once(until_ended(waiting["task_ids"][0]))
    assert reply_in_chat(web, auth, waiting["chat_id"], waiting_id)["content"] == "w0 w1 w2"


def test_a_job_longer_than_the_redelivery_timeout_runs_once(web, env, auth, fake_ollama):
    """Two workers, one reply streaming for three redelivery timeouts: the worker running it stays alive
    (heartbeats) so the other never takes its message over."""
    fake_ollama.behave(delay=3 * int(FAST_REDELIVERY["JOB_REDELIVERY_TIMEOUT_MS"]) / 1000 / TOKENS)
    with running_worker(modules=(), env=env), running_worker(modules=(), env=env):
        body, reply_id = background_request(LLAMA, "sid-long", params={"max_tokens": TOKENS})
        started = post(web, "/api/chat/completions", auth, body).json()
        seen = until_ended(started["task_ids"][0])
    ran_once(seen)
    assert job_row(started["task_ids"][0]).attempts == 1
    assert len(fake_ollama.received("/api/chat")) == 1
    assert reply_in_chat(web, auth, started["chat_id"], reply_id)["content"] == ANSWER


def test_an_attempt_that_will_be_retried_leaves_no_error_in_the_chat(web, env, auth, slow_ollama):
    """The upstream fails the first attempt (503, before any output) and the retry answers: while the retry
    runs, and after it, the chat shows no error from the failed attempt (a reload would have shown one)."""
    with running_worker(modules=(), env=env):
        warm(web, auth)
        slow_ollama.behave(status=503, error="model is loading", fail_times=1)
        body, reply_id = background_request(LLAMA, "sid-retry", params={"max_tokens": TOKENS})
        started = post(web, "/api/chat/completions", auth, body).json()
        job_id, chat_id = started["task_ids"][0], started["chat_id"]
        until_delta(job_id, "w0")  # the retry answers
        assert reply_in_chat(web, auth, chat_id, reply_id).get("error") is None
        seen = until_ended(job_id)
    assert [e.data["message"] for e in seen if e.type == "progress"] == ["Retrying: Ollama: model is loading"]
    ran_once(seen)
    reply = reply_in_chat(web, auth, chat_id, reply_id)
    assert (reply["content"], reply.get("error")) == (ANSWER, None)


def test_a_background_reply_whose_retries_all_fail_ends_with_the_error_in_the_chat(web, env, auth, fake_ollama):
    with running_worker(modules=(), env=env):
        warm(web, auth)
        fake_ollama.behave(status=503, error="model is loading")
        body, reply_id = background_request(LLAMA, "sid-retries")
        started = post(web, "/api/chat/completions", auth, body).json()
        assert until_ended(started["task_ids"][0])[-1].data == {"status": "failed"}
        reply = {}
        wait_for(lambda: reply.update(reply_in_chat(web, auth, started["chat_id"], reply_id)) or reply.get("done"),
                 "the reply was not ended")
    assert reply["error"] == {"content": "Ollama: model is loading"}
    assert len(fake_ollama.received("/api/chat")) == 3
