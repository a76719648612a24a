"""Outages of the services the jobs run on, with real processes (gunicorn web, ``workers.pool`` over Dramatiq,
the fake Ollama): a Redis server and a PostgreSQL cluster of this module's own are stopped under a streaming
reply and started again (Redis empty, as a Redis without persistence comes back); the work in flight is not
lost."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

import pytest
import requests

from tests.e2e.gateway_stack import LLAMA, Stack, background_request, post, stack_env
from tests.e2e.processes import free_port, stop, web_process, web_server
from tests.e2e.test_job_faults import FAST_REDELIVERY
from tests.fakes.fixtures import fake_ollama, fake_openai, ollama_server, openai_server  # noqa: F401
from tests.helpers import bearer, wait_for
from tests.jobs.worker import running_worker

TOKENS = 40
ANSWER = " ".join(f"w{i}" for i in range(TOKENS))
TOKEN_DELAY = 0.1
"""A reply streams for about four seconds: long enough to stop Redis under it."""
OUTAGE = 4.0


class RedisServer:
    """A ``redis-server`` on a free loopback port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                                        text=True).stdout.strip() == "PONG", "redis-server never started", 10)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=5)
            self.process = None


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(database, redis_server, ollama_server, openai_server):
    env = {**stack_env(ollama_server.url, openai_server.url), **FAST_REDELIVERY, "REDIS_URL": redis_server.url}
    with running_worker(modules=(), env=env, pool=True, threads=4) as worker, web_server(env) as url:
        yield Stack(url, worker)


def reply(live: str, auth: dict, chat_id: str, reply_id: str) -> dict:
    chat = requests.get(f"{live}/api/v1/chats/{chat_id}", headers=auth, timeout=10).json()["chat"]
    return chat["history"]["messages"].get(reply_id) or {}


def job(live: str, auth: dict, job_id: str) -> dict:
    return requests.get(f"{live}/api/v1/jobs/{job_id}", headers=auth, timeout=10).json()


def test_a_reply_streaming_through_a_redis_outage_is_finished_whole(stack, admin, redis_server, fake_ollama):
    """Redis stops for four seconds while a background reply streams: the worker keeps its upstream stream and
    PostgreSQL, holds the job's events until Redis is back, and the reply ends whole, without an error."""
    fake_ollama.behave(delay=TOKEN_DELAY)
    auth = bearer(admin["token"])
    body, reply_id = background_request(LLAMA, "sid-outage", params={"max_tokens": TOKENS})
    live = stack.url
    started = post(stack, "/api/chat/completions", auth, body).json()
    job_id, chat_id = started["task_ids"][0], started["chat_id"]
    wait_for(lambda: job(live, auth, job_id).get("status") == "running", "the reply never started", 15)
    time.sleep(0.5)
    redis_server.stop()
    time.sleep(OUTAGE / 2)
    assert requests.get(f"{live}/health", timeout=5).ok  # the web keeps answering
    assert requests.get(f"{live}/ready", timeout=10).status_code == 503
    time.sleep(OUTAGE / 2)
    redis_server.start()
    wait_for(lambda: job(live, auth, job_id).get("status") not in ("queued", "running"),
             "the reply never ended", 60)
    assert job(live, auth, job_id)["status"] == "succeeded"
    saved = reply(live, auth, chat_id, reply_id)
    assert (saved.get("content"), saved.get("done"), saved.get("error")) == (ANSWER, True, None)
    assert len(fake_ollama.received("/api/chat")) == 1  # finished by the attempt that began it


PG_BIN = Path("/usr/lib/postgresql") / sorted(os.listdir("/usr/lib/postgresql"))[-1] / "bin"


class PostgresServer:
    """A PostgreSQL cluster of its own (initdb into a temporary folder, on a free loopback port), so that
    stopping it touches no other test run's database."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))  # where the postgres user may go
        self.dir, self.port = self.root / "cluster", free_port()
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-l", str(self.dir / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, check: bool = True) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-m", "fast", "-w", "stop", check=check)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_stack(database, ollama_server, openai_server):
    """Web and a worker on a PostgreSQL cluster of their own (migrated, empty) and this run's Redis."""
    if not PG_BIN.exists():
        pytest.skip("PostgreSQL's server programs are not installed")
    server = PostgresServer()
    server.start()
    try:
        with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE DATABASE switchyard")
        env = {**stack_env(ollama_server.url, openai_server.url), **FAST_REDELIVERY,
               "DATABASE_URL": server.url("switchyard")}
        subprocess.run([sys.executable, "-m", "shared.cli", "migrate"], check=True, capture_output=True,
                       env={**os.environ, **env})
        with running_worker(modules=(), env=env, pool=True, threads=4) as worker, web_server(env) as url:
            yield Stack(url, worker), server
    finally:
        server.stop(check=False)  # already stopped when a test failed during its outage
        server.remove()


def test_a_reply_streaming_through_a_postgresql_outage_is_finished_whole(postgres_stack, fake_ollama):
    """PostgreSQL stops for four seconds while a background reply streams: the web answers 503 meanwhile, and
    the worker saves the reply and records the job once the database is back."""
    stack, server = postgres_stack
    fake_ollama.behave(delay=TOKEN_DELAY)
    signup = requests.post(f"{stack.url}/api/v1/auths/signup", timeout=10, json={
        "name": "Admin", "email": "pg-admin@example.com", "password": "pw-pg-admin"})
    auth = bearer(signup.json()["token"])
    body, reply_id = background_request(LLAMA, "sid-pg-outage", params={"max_tokens": TOKENS})
    started = post(stack, "/api/chat/completions", auth, body).json()
    job_id, chat_id = started["task_ids"][0], started["chat_id"]
    wait_for(lambda: job(stack.url, auth, job_id).get("status") == "running", "the reply never started", 15)
    time.sleep(0.5)
    server.stop()
    time.sleep(OUTAGE / 2)
    assert requests.get(f"{stack.url}/health", timeout=5).ok
    down = requests.get(f"{stack.url}/api/v1/chats/{chat_id}", headers=auth, timeout=10)
    assert down.status_code == 503 and down.json()["detail"]
    time.sleep(OUTAGE / 2)
    server.start()
    wait_for(lambda: job(stack.url, auth, job_id).get("status") not in ("queued", "running"),
             "the reply never ended", 60)
    assert job(stack.url, auth, job_id)["status"] == "succeeded"
    saved = reply(stack.url, auth, chat_id, reply_id)
    assert (saved.get("content"), saved.get("done"), saved.get("error")) == (ANSWER, True, None)


def sse_events(response: requests.Response):
    """``(id, event, data)`` of each event of an SSE answer, as they come."""
    event_id = kind = None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield event_id, kind, json.loads(line[6:])


def test_sigterm_to_the_web_ends_its_streams_and_a_client_resumes_on_another_without_a_gap(database, admin):
    """A web process told to stop closes its event streams within its grace period and exits; the client,
    reconnecting to another web process with ``Last-Event-ID``, gets the rest of the job's events, none twice."""
    auth = bearer(admin["token"])
    with running_worker(modules=()), web_process() as (first, gunicorn), web_server() as second:
        probe = requests.post(f"{first}/api/v1/jobs/probe", headers={**auth, "Prefer": "respond-async"},
                              timeout=10, json={"seconds": 4})
        assert probe.status_code == 202, probe.text
        job_id = probe.json()["job_id"]
        seen: list[tuple[str, str, dict]] = []
        with requests.get(f"{first}/api/v1/jobs/{job_id}/events", headers=auth, stream=True,
                          timeout=30) as stream:
            for event in sse_events(stream):
                seen.append(event)
                if event[1] == "progress" and event[2]["progress"] >= 0.3:
                    gunicorn.send_signal(signal.SIGTERM)
                    break
            stopping = time.monotonic()
            list(sse_events(stream))  # the rest this process sends before it closes the stream
        gunicorn.wait(10)
        assert time.monotonic() - stopping < 5
        with requests.get(f"{second}/api/v1/jobs/{job_id}/events", timeout=30, stream=True,
                          headers={**auth, "Last-Event-ID": seen[-1][0]}) as resumed:
            seen += list(sse_events(resumed))
    steps = [data["progress"] for _id, kind, data in seen if kind == "progress"]
    assert steps == sorted(steps) and len(steps) == len(set(steps)) == 10
    assert seen[-1][1:] == ("status", {"status": "succeeded"})
