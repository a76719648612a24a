"""Running a snippet of Python for ``POST /api/v1/utils/code/execute``, in a sandbox built on the one user code
runs in (``shared.extensions.sandbox``: a child of the worker in its own session, an empty folder as its working
directory, a bare environment, memory and CPU-time limits) and cut off further (``isolation``): its own PID
namespace, no network unless ``CODE_EXECUTION_ALLOW_NETWORK``, another account when the worker is root (the data
directory closed to it), a cap on its processes, on its wall-clock time and on what it prints. Whatever limit
stops it is said in its ``stderr``; the answer keeps Open WebUI's shape ``{stdout, stderr, result}``."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shared.config import env
from shared.errors import ServiceError
from shared.extensions import cell, isolation, sandbox

PROGRAM = Path(cell.__file__).read_text(encoding="utf-8")
"""What the sandbox's interpreter runs (``python -I -c``): it needs no access to Switchyard's files."""


class SandboxUnavailable(ServiceError):
    """The sandbox could not be set up here (no namespaces, no interpreter): nothing was run."""

    status = 503


@dataclass(frozen=True)
class SnippetLimits:
    seconds: float
    memory_mb: int
    output_bytes: int
    processes: int
    network: bool

    @classmethod
    def configured(cls) -> SnippetLimits:
        return cls(float(env("CODE_EXECUTION_TIME_LIMIT_SECONDS")), int(env("CODE_EXECUTION_MEMORY_LIMIT_MB")),
                   int(env("CODE_EXECUTION_OUTPUT_LIMIT_KB")) * 1024, int(env("CODE_EXECUTION_MAX_PROCESSES")),
                   bool(env("CODE_EXECUTION_ALLOW_NETWORK")))


class _Output:
    """Both pipes of the child read into one budget; past it the child's namespace is killed."""

    def __init__(self, budget: int, on_full) -> None:
        self.budget, self.on_full, self.full = budget, on_full, False
        self.parts: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self._lock = threading.Lock()

    def read(self, name: str, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            with self._lock:
                room = self.budget - sum(len(part) for part in self.parts.values())
                self.parts[name] += chunk[:max(room, 0)]
                if len(chunk) > room and not self.full:
                    self.full = True
                    self.on_full()

    def text(self, name: str) -> str:
        return self.parts[name].decode(errors="replace").strip()


SYSTEM_PYTHON = "/usr/bin/python3"


@lru_cache(maxsize=8)
def _runs_as(python: str, run_as: tuple[int, int]) -> bool:
    """Whether the sandbox's account can start ``python`` (an interpreter under ``/root`` it cannot)."""
    try:
        return subprocess.run([python, "-I", "-c", "pass"], user=run_as[0], group=run_as[1], extra_groups=[],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def interpreter(run_as: tuple[int, int] | None) -> str:
    """``CODE_EXECUTION_PYTHON``; else the worker's own when the account can start it, else the system's."""
    configured = env("CODE_EXECUTION_PYTHON")
    if configured:
        return str(configured)
    if run_as is None or _runs_as(sys.executable, run_as) or not Path(SYSTEM_PYTHON).exists():
        return sys.executable
    return SYSTEM_PYTHON


def _start(workdir: str, limits: SnippetLimits, run_as: tuple[int, int] | None) -> subprocess.Popen:
    python = interpreter(run_as)
    limit, confine = (sandbox.limiting(sandbox.Limits(limits.seconds, limits.memory_mb)),
                      isolation.confining(limits.network, limits.processes, run_as))

    def prepare() -> None:
        limit()
        confine()
    try:
        return subprocess.Popen(
            [python, "-I", "-c", PROGRAM], cwd=workdir, env={**sandbox.bare_env(), "HOME": workdir},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=prepare)
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxUnavailable(
            f"The code execution sandbox could not be started ({error}). It needs the worker to run as root or "
            "the kernel to allow unprivileged user namespaces, and CODE_EXECUTION_PYTHON to be executable by "
            "CODE_EXECUTION_USER.") from None


def _why(child: subprocess.Popen, limits: SnippetLimits, timed_out: bool, output: _Output) -> str | None:
    """What stopped the code, when a limit did."""
    if timed_out:
        return f"Execution timed out after {limits.seconds:g} s: the code was stopped."
    if output.full:
        return f"The code printed more than {limits.output_bytes // 1024} KB and was stopped."
    errors = output.text("stderr")
    if child.returncode in (-signal.SIGKILL, -signal.SIGXCPU) or "MemoryError" in errors:
        return f"The code was stopped: it ran out of CPU time or memory (limit {limits.memory_mb} MB)."
    if child.returncode < 0:
        return f"The code was stopped by {signal.Signals(-child.returncode).name}."
    if "Resource temporarily unavailable" in errors:
        return f"The code reached the sandbox's limit of {limits.processes} processes."
    return None


def run(code: str, limits: SnippetLimits | None = None) -> dict[str, str]:
    """``{stdout, stderr, result}`` of ``code`` run in the sandbox (``result``: the repr of a last bare
    expression, as a notebook cell shows it)."""
    limits = limits or SnippetLimits.configured()
    try:
        run_as = isolation.account(env("CODE_EXECUTION_USER"))
    except KeyError:
        raise SandboxUnavailable(f"CODE_EXECUTION_USER {env('CODE_EXECUTION_USER')!r} is not an account on the "
                                 "worker's host.") from None
    with tempfile.TemporaryDirectory(prefix="code-") as workdir:
        Path(workdir, cell.SOURCE).write_text(code, encoding="utf-8")
        if run_as is not None:
            isolation.hide(Path(env("DATA_DIR")).resolve())
            for path in (workdir, str(Path(workdir, cell.SOURCE))):
                os.chown(path, *run_as)
        child = _start(workdir, limits, run_as)
        space = isolation.namespace(child.pid)
        child.stdin.close()  # the go-ahead: the code starts once its namespace is known
        output = _Output(limits.output_bytes, lambda: isolation.kill_namespace(space))
        readers = [threading.Thread(target=output.read, args=(name, stream), daemon=True)
                   for name, stream in (("stdout", child.stdout), ("stderr", child.stderr))]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            child.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            isolation.kill_namespace(space)
            sandbox.kill(child)
        for reader in readers:
            reader.join(timeout=5)
        stderr = "\n".join(filter(None, (output.text("stderr"), _why(child, limits, timed_out, output))))
        return {"stdout": output.text("stdout"), "stderr": stderr,
                "result": _result(Path(workdir, cell.RESULT), limits.output_bytes)}


def _result(path: Path, budget: int) -> str:
    """The cell's ``.result``, read without following a link the code may have put there in its place."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return ""
        return file.read(budget).decode(errors="replace")
