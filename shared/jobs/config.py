"""Job-platform settings, read from the environment once per process."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class JobSettings:
    redelivery_timeout_ms: int
    """A worker silent this long is dead; its unacknowledged messages go back to their queue."""
    maintenance_interval_ms: int
    """How often each worker checks a queue for dead workers' messages (and expired dead letters)."""
    events_maxlen: int
    events_ttl: int
    """Seconds an event log is kept after its job ends."""
    stale_queued_after: int
    """Seconds after which a still-``queued`` job's message is sent again by the sweep."""
    retention_days: int
    inline_result_bytes: int
    idle_wait_ms: int
    """Longest a consumer blocks waiting for a wake-up before polling its queue anyway."""
    row_wait_ms: int
    """How long a delivery waits for its job's row to appear (it may be inserted while the message is sent)."""
    stream_flush_ms: int
    """Streamed output is published at most once per this interval per job (the first chunk after a
    pause at once); chunks arriving faster go out together, one event-log call and one announcement."""


def load_job_settings() -> JobSettings:
    redelivery = _int("JOB_REDELIVERY_TIMEOUT_MS", 15000)
    return JobSettings(
        redelivery_timeout_ms=redelivery,
        maintenance_interval_ms=_int("JOB_MAINTENANCE_INTERVAL_MS", max(250, min(redelivery // 4, 5000))),
        events_maxlen=_int("JOB_EVENTS_MAXLEN", 10000),
        events_ttl=_int("JOB_EVENTS_TTL", 24 * 3600),
        stale_queued_after=_int("JOB_STALE_QUEUED_SECONDS", 60),
        retention_days=_int("JOB_RETENTION_DAYS", 30),
        inline_result_bytes=_int("JOB_INLINE_RESULT_BYTES", 256 * 1024),
        idle_wait_ms=_int("JOB_IDLE_WAIT_MS", 1000),
        row_wait_ms=_int("JOB_ROW_WAIT_MS", 5000),
        stream_flush_ms=_int("JOB_STREAM_FLUSH_MS", 50),
    )


@lru_cache(maxsize=1)
def get_job_settings() -> JobSettings:
    return load_job_settings()
