"""What every benchmark shares: a scratch PostgreSQL database and Redis key prefix, real processes,
percentiles and a plain table.

The scripts sit next to this module and import it first (``import harness``); ``isolate()`` sets the
environment before any Switchyard module reads it, so the processes a benchmark starts inherit it.
The database is on ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres),
Redis on ``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/0) under a private key prefix.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

from tests.e2e.processes import free_port, stop  # noqa: E402  (re-exported for the scripts)

__all__ = ["BIN", "ROOT", "free_port", "isolate", "machine", "percentile", "print_table", "scratch_database",
           "start_process", "start_web", "stop_process"]


def isolate(db_prefix: str = "sy_bench") -> str:
    """Point this process at a scratch database name, data directory and Redis prefix; returns the name."""
    run = uuid.uuid4().hex[:8]
    db_name = f"{db_prefix}_{run}"
    os.environ.update(
        DATA_DIR=tempfile.mkdtemp(prefix="switchyard-bench-"),
        DATABASE_URL=ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{db_name}",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        REDIS_PREFIX=f"sybench-{run}",
        WEBUI_SECRET_KEY=f"bench-{run}-0123456789abcdef0123456789abcdef",
    )
    return db_name


def _admin_sql(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def scratch_database(db_name: str) -> Iterator[None]:
    """Create and migrate ``db_name``; afterwards drop it and delete the run's Redis keys."""
    _admin_sql(f'CREATE DATABASE "{db_name}"')
    try:
        from shared.cli import migrate

        migrate()
        yield
    finally:
        from shared.db import get_engine
        from shared.redis_client import get_redis

        get_engine().dispose()
        _admin_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        keys = list(get_redis().scan_iter(f"{os.environ['REDIS_PREFIX']}:*", count=1000))
        for start in range(0, len(keys), 1000):
            get_redis().delete(*keys[start:start + 1000])


def start_process(args: list[str], ready: Callable[[subprocess.Popen], bool],
                  timeout: float = 30) -> subprocess.Popen:
    """Start ``args`` in its own process group, logging to a temporary file, and wait until ``ready``."""
    log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)
    process = subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), start_new_session=True,
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log.name
    deadline = time.monotonic() + timeout
    while not ready(process):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{args[0]} did not start:\n{Path(log.name).read_text()[-2000:]}")
        time.sleep(0.05)
    return process


def start_web(port: int, *gunicorn_args: str) -> subprocess.Popen:
    """One gunicorn gevent web process on loopback (as the Procfile's ``web``), once ``/health`` answers."""
    def ready(_process) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok
        except requests.RequestException:
            return False

    return start_process([str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1", *gunicorn_args,
                          "--bind", f"127.0.0.1:{port}", "web.wsgi:app"], ready)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a process from ``start_process`` (its whole group) and delete its log."""
    stop(process, timeout=20)
    Path(process.log_path).unlink(missing_ok=True)


REFERENCE_BODY = {"model": "llama3:latest", "stream": True, "n": list(range(40)),
                  "messages": [{"role": "user", "content": "a sentence of a chat message " * 8}] * 4}


def reference_ms() -> float:
    """Milliseconds (best of 5) for a fixed single-threaded workload of the kind a request costs: JSON
    encoding and decoding of a chat body, 2,000 times. Lower is faster; it tells how fast this machine
    runs Python right now, so figures from different machines or days can be set side by side."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(2000):
            json.loads(json.dumps(REFERENCE_BODY))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def machine() -> str:
    """The machine as a benchmark's heading states it: CPUs, load average, reference workload time."""
    return (f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
            f"reference workload {reference_ms():.0f} ms (lower = faster machine, see bench/harness.py)")


def percentile(values: Sequence[float], q: float) -> float:
    """The value at fraction ``q`` (0..1) of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns as wide as their longest cell, a dashed rule under the header."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for line in (header, ["-" * width for width in widths], *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
