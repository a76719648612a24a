"""The ``requirements`` a module's frontmatter names (``requirements: httpx, pandas>=2``). They are always reported
(the stored manifest); they are installed only when the admin enables ``ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS``,
by the worker about to load or run the module, into a directory of the data directory that only user code's
processes see, after Switchyard's own packages (a requirement never replaces one of those)."""
from __future__ import annotations

import fcntl
import json
import shlex
import subprocess
import sys
from pathlib import Path

from shared.config import env, get_settings
from shared.errors import ServiceError

INSTALL_TIMEOUT_SECONDS = 600


class RequirementsFailed(ServiceError):
    status = 400


def parse(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def enabled() -> bool:
    return bool(env("ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS"))


def target() -> Path:
    """Where requirements are installed (the sandbox's child adds it to the end of its import path)."""
    return get_settings().data_dir / "extensions" / "site-packages"


def ensure(requirements: list[str]) -> None:
    """Install those of ``requirements`` this worker has not installed yet (when enabled); one install at a time
    per data directory."""
    if not requirements or not enabled():
        return
    folder = target()
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / ".installed.json"
    with open(folder.parent / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = set(json.loads(record.read_text())) if record.exists() else set()
        missing = [item for item in requirements if item not in done]
        if not missing:
            return
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                   "--target", str(folder), *shlex.split(env("PIP_OPTIONS") or ""), *missing]
        try:
            finished = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise RequirementsFailed(f"Installing {', '.join(missing)} took longer than "
                                     f"{INSTALL_TIMEOUT_SECONDS} s.") from None
        if finished.returncode != 0:
            said = [line for line in finished.stderr.strip().splitlines() if line.strip()]
            raise RequirementsFailed(f"Installing {', '.join(missing)} failed: "
                                     f"{said[-1] if said else f'pip exited with {finished.returncode}'}")
        record.write_text(json.dumps(sorted(done | set(missing))))


def hint(requirements: list[str]) -> str:
    """What to tell the admin when a module's import failed and it names requirements."""
    if not requirements:
        return ""
    if enabled():
        return f" (its requirements: {', '.join(requirements)})"
    return (f" (its requirements {', '.join(requirements)} are not installed: install them on the workers, or set "
            "ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS)")
