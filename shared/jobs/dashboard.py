"""What operators see of the queues: Redis's messages (waiting, delayed, dead letters, the oldest one's age),
the job rows (queued, running, failed), the workers' heartbeats and the jobs finished per minute. Read by the
queue dashboard (``GET /api/v1/jobs/admin/queues``) and the queue gauges of ``/metrics``."""
from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import NotFound
from shared.jobs import broker, heartbeats, throughput
from shared.jobs.queues import QUEUES
from shared.models.job import Job


def live_workers() -> list[heartbeats.Heartbeat]:
    return heartbeats.live(broker.sending_broker().client)


def queue_state(beats: list[heartbeats.Heartbeat]) -> dict[str, dict]:
    """Per queue, from Redis alone: messages waiting, delayed and dead-lettered, the oldest waiting message's
    age in seconds, and the live worker processes (``beats``) consuming it and their threads."""
    depths = broker.queue_depths(QUEUES)
    ages = broker.oldest_waiting_ages(QUEUES)
    workers, threads = Counter(), Counter()
    for beat in beats:
        for queue in beat.queues:
            workers[queue] += 1
            threads[queue] += beat.threads
    return {queue: {"waiting": depths[queue]["waiting"], "delayed": depths[queue]["delayed"],
                    "dead_letters": depths[queue]["dead"], "oldest_age": ages[queue],
                    "workers": workers[queue], "threads": threads[queue]} for queue in QUEUES}


def _rows_by_queue(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(select(Job.queue, Job.status, func.count())
                           .where(Job.status.in_(("queued", "running", "failed")))
                           .group_by(Job.queue, Job.status)).all()
    counts: dict[str, dict[str, int]] = {}
    for queue, status, count in rows:
        counts.setdefault(queue, {})[status] = count
    return counts


def overview(session: Session, minutes: int) -> dict:
    """The dashboard: every queue with its messages, job rows and throughput over the last ``minutes``
    minutes (oldest first), and every live worker process."""
    now = time.time()
    beats = live_workers()
    state = queue_state(beats)
    rows = _rows_by_queue(session)
    recent = throughput.recent(broker.sending_broker().client, minutes, now)
    queues = []
    for queue in QUEUES:
        per_minute = [{"minute": minute, **{outcome: counts.get(queue, {}).get(outcome, 0)
                                            for outcome in throughput.OUTCOMES}}
                      for minute, counts in recent]
        queues.append({"name": queue, **state[queue],
                       **{status: rows.get(queue, {}).get(status, 0) for status in ("queued", "running", "failed")},
                       "throughput": per_minute})
    workers = [{"host": beat.host, "pid": beat.pid, "queues": beat.queues, "threads": beat.threads,
                "started": int(beat.started), "heartbeat_age": round(heartbeats.age(beat, now), 1)}
               for beat in beats]
    return {"time": int(now), "minutes": minutes, "queues": queues, "workers": workers,
            "poisoned": broker.poisoned_count()}


def purge_dead_letters(queue: str) -> dict:
    if queue not in QUEUES:
        raise NotFound(f"There is no queue named {queue!r} (queues: {', '.join(QUEUES)}).")
    return {"queue": queue, "purged": broker.purge_dead_letters(queue)}
