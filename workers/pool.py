"""Keeps a worker's processes running: ``python -m workers.pool dramatiq workers.main --processes N ...``.

Dramatiq's main process shuts all its worker processes down when one of them dies (an OOM kill of a process
parsing a huge PDF), and then exits; a process manager such as honcho then stops the web too. This pool runs
the Dramatiq command N times with ``--processes 1`` instead and replaces any copy that ends while the pool is not
stopping, so one process dying costs only the jobs it was running, which are delivered again once it is seen
dead (``JOB_REDELIVERY_TIMEOUT_MS``). A copy that keeps dying quickly is restarted ever more slowly (up to
``MAX_DELAY``). SIGTERM, SIGINT and SIGHUP are passed on to every copy; the pool exits when they all have.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("workers.pool")

QUICK_DEATH = 10.0
"""Seconds: a copy that ends sooner than this after it started is restarted after a growing delay."""
MAX_DELAY = 30.0
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def split_processes(argv: list[str]) -> tuple[list[str], int]:
    """The command without its ``--processes``/``-p`` option, and that option's value (the CPU count when
    absent, as Dramatiq)."""
    command, count, args = [], os.cpu_count() or 1, iter(argv)
    for arg in args:
        if arg in ("--processes", "-p"):
            count = int(next(args))
        elif arg.startswith("--processes="):
            count = int(arg.split("=", 1)[1])
        else:
            command.append(arg)
    if count < 1:
        raise ValueError("--processes must be at least 1")
    return command, count


def one_process_command(command: list[str]) -> list[str]:
    """The command as one copy runs it: Dramatiq with a single worker process."""
    if command and os.path.basename(command[0]) == "dramatiq":
        command = [sys.executable, "-m", "dramatiq", *command[1:]]
    return [*command, "--processes", "1"]


@dataclass
class Copy:
    index: int
    process: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = 0.0
    restart_at: float | None = field(default=None)


class Pool:
    def __init__(self, command: list[str], count: int) -> None:
        self.command = one_process_command(command)
        self.copies = [Copy(index) for index in range(count)]
        self.stopping: int | None = None

    def start(self, copy: Copy) -> None:
        copy.process = subprocess.Popen(self.command)
        copy.started, copy.restart_at = time.monotonic(), None
        log.info("worker copy %d started (pid %d)", copy.index, copy.process.pid)

    def stop(self, signum: int, _frame=None) -> None:
        self.stopping = signal.SIGTERM if signum == signal.SIGINT else signum
        for copy in self.copies:
            if copy.process is not None and copy.process.poll() is None:
                copy.process.send_signal(self.stopping)

    def ended(self, copy: Copy) -> None:
        """A copy ended while the pool runs: restart it, later if it died quickly again."""
        code = copy.process.returncode
        lived = time.monotonic() - copy.started
        copy.delay = min(MAX_DELAY, max(1.0, copy.delay * 2)) if lived < QUICK_DEATH else 0.0
        copy.restart_at = time.monotonic() + copy.delay
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        log.warning("worker copy %d (pid %d) ended with %s after %.0f s; restarting in %.0f s",
                    copy.index, copy.process.pid, how, lived, copy.delay)
        copy.process = None

    def run(self) -> int:
        for signum in FORWARDED:
            signal.signal(signum, self.stop)
        for copy in self.copies:
            self.start(copy)
        while True:
            alive = False
            for copy in self.copies:
                if copy.process is not None and copy.process.poll() is None:
                    alive = True
                elif self.stopping is None:
                    alive = True
                    if copy.process is not None:
                        self.ended(copy)
                    elif copy.restart_at is not None and time.monotonic() >= copy.restart_at:
                        self.start(copy)
            if not alive:
                return 0
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [PID %(process)d] [%(name)s] %(message)s")
    command, count = split_processes(sys.argv[1:] if argv is None else argv)
    if not command:
        sys.exit("usage: python -m workers.pool dramatiq workers.main [--processes N] [dramatiq options]")
    return Pool(command, count).run()


if __name__ == "__main__":
    sys.exit(main())
