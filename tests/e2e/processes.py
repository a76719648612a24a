"""Real Switchyard processes for end-to-end tests: gunicorn web servers and Dramatiq workers.

They inherit the test environment (this run's database, Redis prefix and data directory), listen on
free loopback ports, and are stopped (process group) when the test ends.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the process group; SIGKILL it if it is still running after ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@contextmanager
def web_server(env: dict | None = None, log: Path | None = None):
    """``gunicorn web.wsgi:app`` with the gevent worker (as the Procfile runs it); yields its base URL. Its
    output goes to ``log`` when given."""
    with web_process(env, log) as (url, _process):
        yield url


@contextmanager
def web_process(env: dict | None = None, log: Path | None = None):
    """As :func:`web_server`; yields its base URL and its gunicorn master process."""
    port = free_port()
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--graceful-timeout", "2", "web.wsgi:app"],
        cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True,
        stdout=output, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"web server on port {port} did not start")
            time.sleep(0.1)
        yield url, process
    finally:
        stop(process)
        if log:
            output.close()


@contextmanager
def worker(env: dict | None = None):
    """``dramatiq workers.main`` (one process, a few threads)."""
    process = subprocess.Popen(
        [str(BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", "4"],
        cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        stop(process)


@contextmanager
def private_redis(port: int):
    """A redis-server of its own on ``port`` (killed at the end: a test may kill and restart it)."""
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait(5)
