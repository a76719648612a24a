"""Running one call of user code in a child process of its own (``shared.extensions.runner``), under a wall-clock
limit (the process group is killed past it), an address-space limit and a CPU-time limit, in an empty working
directory with a bare environment (no database URL, no secret key). A crash, a loop or a memory blow-up ends
that child, never the worker; each becomes an :class:`ExtensionFailed` naming what happened."""
from __future__ import annotations

import json
import os
import queue
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.config import env, passed_on
from shared.errors import ServiceError
from shared.extensions import requirements, specs

ROOT = Path(__file__).resolve().parents[2]
"""The directory that holds the ``shared`` package (the child imports ``shared.extensions.runner``)."""


class ExtensionFailed(ServiceError):
    """User code that failed to load or to answer (its error, a limit it hit, or its exit)."""

    status = 400


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int

    @classmethod
    def configured(cls) -> Limits:
        return cls(float(env("EXTENSION_TIME_LIMIT_SECONDS")), int(env("EXTENSION_MEMORY_LIMIT_MB")))


def limiting(limits: Limits) -> Callable[[], None]:
    """What a child runs before its program (``preexec_fn``): a session of its own, so that :func:`kill` reaches
    every process it starts, and its memory and CPU-time limits."""
    def apply() -> None:
        os.setsid()
        memory = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    return apply


def bare_env() -> dict[str, str]:
    """A child's environment: nothing of the worker's configuration (no database URL, no secret key)."""
    return {**passed_on(("PATH", "LANG", "LC_ALL", "TZ", "HOME")), "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


def kill(child: subprocess.Popen) -> None:
    """The child's whole process group killed, and the child reaped."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _ended(child: subprocess.Popen, limits: Limits, stderr: str) -> str:
    """Why a child ended without answering."""
    code = child.returncode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        if -code in (signal.SIGXCPU, signal.SIGKILL):
            return f"it was stopped by {name} (CPU time or memory limit: {limits.memory_mb} MB)"
        return f"it was stopped by {name}"
    tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
    if tail and "MemoryError" in tail[0]:
        return f"it ran out of memory (limit {limits.memory_mb} MB)"
    return f"it exited with code {code} before answering" + (f": {tail[0]}" if tail else "")


class Child:
    """One sandboxed child running ``shared.extensions.runner``: it is sent a request, then (for ``serve``)
    one line of arguments per call, and answers each with events, pieces and a result or an error."""

    def __init__(self, request: dict, what: str, limits: Limits | None = None) -> None:
        self.what, self.limits = what, limits or Limits.configured()
        self.requirements = requirements.parse(specs.frontmatter(request.get("source") or "").get("requirements"))
        requirements.ensure(self.requirements)
        if requirements.enabled():
            request = {**request, "packages": str(requirements.target())}
        self._workdir = tempfile.TemporaryDirectory(prefix="extension-")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "shared.extensions.runner"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self._workdir.name, env=bare_env(), preexec_fn=limiting(self.limits),
            text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._errors: list[str] = []
        threading.Thread(target=_pump, args=(self._process.stdout, self._lines), daemon=True).start()
        threading.Thread(target=lambda: self._errors.append(self._process.stderr.read()), daemon=True).start()
        self.send(request)

    def send(self, line: dict | None) -> None:
        """One line to the child; None ends its input."""
        try:
            if line is None:
                self._process.stdin.close()
            else:
                self._process.stdin.write(json.dumps(line, default=str) + "\n")
                self._process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # it has ended; ``answer`` says why

    def answer(self, on_output: Callable[[dict], None] | None = None) -> object:
        """The result of the call in progress (within the time limit); each ``{"event": ...}`` or
        ``{"piece": ...}`` the code sends on the way goes to ``on_output``."""
        deadline = time.monotonic() + self.limits.seconds
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ExtensionFailed(f"The {self.what} ran past its time limit ({self.limits.seconds:g} s) "
                                      "and was stopped.") from None
            if line is None:
                self._process.wait()
                time.sleep(0.05)  # let the stderr reader finish
                why = _ended(self._process, self.limits, "".join(self._errors))
                raise ExtensionFailed(f"The {self.what} failed: {why}.")
            answer = json.loads(line)
            if "error" in answer:
                missing = answer["error"].startswith(("ModuleNotFoundError", "ImportError"))
                raise ExtensionFailed(f"The {self.what} failed: {answer['error']}"
                                      + (requirements.hint(self.requirements) if missing else ""))
            if "result" in answer:
                return answer["result"]
            if on_output is not None:
                on_output(answer)

    def close(self) -> None:
        kill(self._process)
        self._workdir.cleanup()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def run(request: dict, what: str, limits: Limits | None = None,
        on_output: Callable[[dict], None] | None = None) -> object:
    """Send ``request`` to a fresh child and return its result; each event or piece the code sends goes to
    ``on_output`` as it comes. ``what`` names the code in errors (``"tool weather"``)."""
    with Child(request, what, limits) as child:
        child.send(None)
        return child.answer(on_output)


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        if line.strip():
            lines.put(line)
    lines.put(None)
