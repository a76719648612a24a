"""Cutting a code-execution child off from the worker before its program starts: a PID namespace of its own (its
first child is that namespace's init, and every process of the namespace can be found and killed afterwards), a
network namespace of its own unless the network is allowed (no interface but a loopback that is down), and, when
the worker runs as root, another account with a cap on its processes. Root creates namespaces directly; any other
account only where the kernel allows unprivileged user namespaces. What cannot be set up fails the run: nothing
runs with less isolation than configured."""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import signal
import time
from collections.abc import Callable
from pathlib import Path

CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the child between fork and exec only calls it


def account(name: str) -> tuple[int, int] | None:
    """The (uid, gid) executed code runs as: ``name``'s when the worker is root, else None (it keeps the
    worker's own, the only one it can have)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def hide(folder: Path) -> None:
    """``folder`` (the data directory) closed to other accounts, the one executed code runs as among them."""
    mode = folder.stat().st_mode if folder.is_dir() else 0
    if mode & 0o007:
        folder.chmod(mode & ~0o007)


def confining(network: bool, processes: int, run_as: tuple[int, int] | None) -> Callable[[], None]:
    """The steps a child takes after its limits and before its program (``preexec_fn``)."""
    flags = CLONE_NEWPID | (0 if network else CLONE_NEWNET) | (CLONE_NEWUSER if os.geteuid() != 0 else 0)

    def apply() -> None:
        if _LIBC.unshare(flags) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"unshare: {os.strerror(error)}")
        if run_as is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
            os.setgroups([])
            os.setgid(run_as[1])
            os.setuid(run_as[0])
    return apply


def namespace(pid: int, wait: float = 10.0) -> str | None:
    """The PID namespace that ``pid``'s children are in (``pid:[inode]``), once its first child (its init) is
    there; None if ``pid`` ends first."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return os.readlink(f"/proc/{pid}/ns/pid_for_children")
        except FileNotFoundError:  # no init forked yet, or ``pid`` has ended
            if not Path(f"/proc/{pid}/task").is_dir() or _ended(pid):
                return None
            time.sleep(0.002)
    return None


def _ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith(("Z", "X"))
    except (FileNotFoundError, IndexError):
        return True


def kill_namespace(name: str | None) -> None:
    """Every process in the PID namespace ``name`` killed (a process that left its session or process group
    is still found here)."""
    if name is None:
        return
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "pid") == name:
                os.kill(int(entry.name), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it ended meanwhile, or is not ours
