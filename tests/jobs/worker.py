"""A real ``dramatiq workers.main tests.jobs.actors`` process for integration tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.jobs.queues import QUEUES
from tests.e2e.processes import stop

ROOT = Path(__file__).resolve().parents[2]
DRAMATIQ = str(Path(sys.executable).parent / "dramatiq")


IDLE_QUEUE = "pipelines"
"""The queue the shared ``worker`` fixture leaves alone: a message sent there waits (the sweep and enqueue tests
look at it)."""


class WorkerProcess:
    def __init__(self, processes: int = 1, threads: int = 4, env: dict | None = None,
                 modules: tuple[str, ...] = ("tests.jobs.actors",), queues: tuple[str, ...] = (),
                 pool: bool = False) -> None:
        """``pool``: run it as the Procfile does, under ``workers.pool`` (one Dramatiq per process, replaced
        when it ends)."""
        self.log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [*([sys.executable, "-m", "workers.pool"] if pool else []),
             DRAMATIQ, "workers.main", *modules, "--processes", str(processes), "--threads", str(threads),
             *(["--queues", *queues] if queues else [])],
            cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True,
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.processes = processes

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count("is ready for action") < self.processes:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def child_pids(self, parent: int | None = None) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(parent or self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker (parent and its processes): no cleanup, no requeue."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        stop(self.process, timeout=15)
        Path(self.log.name).unlink(missing_ok=True)


@contextmanager
def running_worker(**kwargs):
    worker = WorkerProcess(**kwargs)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def worker(database):
    """A worker (``workers.main tests.jobs.actors``, 4 threads) shared by the tests of a module, on every queue
    but :data:`IDLE_QUEUE`."""
    with running_worker(threads=4, queues=tuple(q for q in QUEUES if q != IDLE_QUEUE)) as process:
        yield process
