"""Job metrics of every message, by actor and queue (``shared/metrics.py`` has the multiprocess setup).

``started`` counts deliveries that claimed their job and ran; each ends in one ``finished`` outcome:
``succeeded``, ``failed`` (final), ``retried`` (Retries scheduled another attempt), ``cancelled`` (failed
without being failed or retried: the job was cancelled or stopped) or ``skipped``. A failed message that is
dead-lettered also counts in ``dead_lettered``. Each outcome is also counted per queue and minute in Redis
(``shared/jobs/throughput.py``), in the round trip that acks the message.

Must come after ``JobLifecycle`` (only claimed deliveries start) and before ``Retries`` in the middleware list:
its ``after_`` hooks then run once ``message.failed`` and the retry count say how the attempt ended.
"""
from __future__ import annotations

import time

from dramatiq.middleware import Middleware
from prometheus_client import Counter, Gauge, Histogram

from shared import metrics
from shared.jobs import throughput
from shared.jobs.broker import SwitchyardBroker

metrics.prepare()

LABELS = ("actor", "queue")
STARTED = Counter("switchyard_jobs_started_total", "Job deliveries that started running", LABELS)
FINISHED = Counter("switchyard_jobs_finished_total", "Job deliveries that ended, by outcome", (*LABELS, "outcome"))
DEAD_LETTERED = Counter("switchyard_jobs_dead_lettered_total", "Failed messages moved to the dead-letter queue",
                        LABELS)
DURATION = Histogram("switchyard_job_duration_seconds", "Time a delivery ran, whatever its outcome", LABELS,
                     buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800))
IN_FLIGHT = Gauge("switchyard_jobs_in_flight", "Deliveries running now", LABELS, multiprocess_mode="livesum")


class JobMetrics(Middleware):
    def __init__(self) -> None:
        self._running: dict[str, tuple[float, int]] = {}
        """Message id -> (start, retries so far) of the deliveries running in this process."""

    def before_process_message(self, broker, message) -> None:
        labels = (message.actor_name, message.queue_name)
        self._running[message.message_id] = (time.perf_counter(), message.options.get("retries", 0))
        STARTED.labels(*labels).inc()
        IN_FLIGHT.labels(*labels).inc()

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is None:
            outcome = "succeeded"
        elif message.failed:
            outcome = "failed"
        else:
            retries = self._running.get(message.message_id, (0.0, 0))[1]
            outcome = "retried" if message.options.get("retries", 0) > retries else "cancelled"
        self._end(broker, message, outcome)

    def after_skip_message(self, broker, message) -> None:
        self._end(broker, message, "skipped")

    def after_nack(self, broker, message) -> None:
        DEAD_LETTERED.labels(message.actor_name, message.queue_name).inc()

    def _end(self, broker, message, outcome: str) -> None:
        started = self._running.pop(message.message_id, None)
        if started is None:  # skipped before it started (its job was taken, finished or cancelled)
            return
        labels = (message.actor_name, message.queue_name)
        IN_FLIGHT.labels(*labels).dec()
        DURATION.labels(*labels).observe(time.perf_counter() - started[0])
        FINISHED.labels(*labels, outcome).inc()

        def count(pipe) -> None:
            throughput.count(pipe, message.queue_name, outcome)

        if isinstance(broker, SwitchyardBroker):
            broker.settle_with(count, ())  # in the ack's round trip
        else:
            pipe = broker.client.pipeline(transaction=False)
            count(pipe)
            pipe.execute()
