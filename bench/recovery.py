"""How long a job waits after the worker process running it is killed (kill -9, what the OOM killer does):
until ``workers.pool`` has a new process ready, and until the job runs again.

    .venv/bin/python bench/recovery.py [--kills 5] [--redelivery-ms 15000]

Starts a scratch PostgreSQL database and the Procfile's ``worker`` (``workers.pool`` over Dramatiq, one
process). Each round sends a sleeping job (``system.sleep``) through the job service, waits for it to run,
kills the Dramatiq worker process running it, and times the replacement process's readiness and the job's
second start. The job runs again once the dead process's messages are taken back: after
``JOB_REDELIVERY_TIMEOUT_MS`` (the default 15 s unless ``--redelivery-ms`` says otherwise), checked every
``JOB_MAINTENANCE_INTERVAL_MS``.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from pathlib import Path

from harness import isolate, machine, percentile, print_table, scratch_database, start_process, stop_process

DB_NAME = isolate("sy_bench_recovery")
READY = "is ready for action"


def ready_pids(log: Path) -> list[int]:
    """The Dramatiq worker processes that said they are ready, in order."""
    return [int(pid) for pid in re.findall(r"\[(\d+) MainThread\] dramatiq\.WorkerProcess\(\d+\) \[[^\]]*\]: "
                                             r"Worker process is ready", log.read_text(errors="replace"))]


def wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--redelivery-ms", type=int, default=None)
    args = parser.parse_args()
    if args.redelivery_ms:
        os.environ["JOB_REDELIVERY_TIMEOUT_MS"] = str(args.redelivery_ms)
    started_on = machine()

    from shared.db import session_scope
    from shared.jobs import catalog, service
    from shared.jobs.config import get_job_settings
    from shared.models import Job

    def attempts(job_id: str) -> int:
        with session_scope() as session:
            job = session.get(Job, job_id)
            return job.attempts if job.status == "running" else 0

    replaced, rerun = [], []
    with scratch_database(DB_NAME):
        pool = start_process([sys.executable, "-m", "workers.pool", "dramatiq", "workers.main", "--processes", "1",
                              "--threads", "2"], lambda p: READY in Path(p.log_path).read_text(errors="replace"))
        log = Path(pool.log_path)
        try:
            for _ in range(args.kills):
                with session_scope() as session:
                    job_id = catalog.send(session, catalog.SLEEP, catalog.Sleep(seconds=3600, steps=3600),
                                          owner_id=None).id
                wait(lambda: attempts(job_id) == 1, 30, "the job to start")
                victim = ready_pids(log)[-1]
                killed = time.monotonic()
                os.kill(victim, signal.SIGKILL)
                wait(lambda: ready_pids(log)[-1] != victim, 60, "a new worker process")
                replaced.append(time.monotonic() - killed)
                wait(lambda: attempts(job_id) == 2, get_job_settings().redelivery_timeout_ms / 1000 + 60,
                     "the job to run again")
                rerun.append(time.monotonic() - killed)
                with session_scope() as session:
                    service.request_cancel(session, session.get(Job, job_id))
        finally:
            stop_process(pool)
    print(f"\nkill -9 of the worker process running a job, {args.kills} times; "
          f"JOB_REDELIVERY_TIMEOUT_MS={get_job_settings().redelivery_timeout_ms}; at start: {started_on}\n")
    print_table(("after kill -9", "p50 s", "max s"), [
        ("a new worker process is ready", f"{percentile(replaced, 0.5):.2f}", f"{max(replaced):.2f}"),
        ("the job runs again", f"{percentile(rerun, 0.5):.2f}", f"{max(rerun):.2f}"),
    ])


if __name__ == "__main__":
    main()
