"""Job-platform settings, read once per process (declared with the others in ``shared.config``)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.config import env


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
    redelivery = env("JOB_REDELIVERY_TIMEOUT_MS")
    maintenance = env("JOB_MAINTENANCE_INTERVAL_MS")
    return JobSettings(
        redelivery_timeout_ms=redelivery,
        maintenance_interval_ms=max(250, min(redelivery // 4, 5000)) if maintenance is None else maintenance,
        events_maxlen=env("JOB_EVENTS_MAXLEN"),
        events_ttl=env("JOB_EVENTS_TTL"),
        stale_queued_after=env("JOB_STALE_QUEUED_SECONDS"),
        retention_days=env("JOB_RETENTION_DAYS"),
        inline_result_bytes=env("JOB_INLINE_RESULT_BYTES"),
        idle_wait_ms=env("JOB_IDLE_WAIT_MS"),
        row_wait_ms=env("JOB_ROW_WAIT_MS"),
        stream_flush_ms=env("JOB_STREAM_FLUSH_MS"),
    )


@lru_cache(maxsize=1)
def get_job_settings() -> JobSettings:
    return load_job_settings()
