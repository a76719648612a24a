"""``/metrics``: Prometheus text of every web and worker process of the host, plus the queues read from Redis at
scrape time; and the request metrics of this process (``shared/metrics.py`` has the multiprocess setup).

Requests are labelled by their route template (the URL rule, never the raw path, so ids do not multiply the
series). Readable with ``METRICS_TOKEN`` as a bearer token, or an admin's token or API key.
"""
from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, Response, g, request
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from shared import messages, metrics
from shared.config import env
from shared.errors import NotFound, Unauthorized
from shared.jobs import dashboard
from web.blueprint import Blueprint
from web.caller import current_user, presented_credential

blp = Blueprint("metrics", __name__, description="Prometheus metrics")

UNMATCHED = "<unmatched>"
"""The route label of requests no rule matched (404s), whatever their path."""
STREAM_KINDS = {"text/event-stream": "sse", "application/x-ndjson": "ndjson"}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class WebMetrics:
    requests: Counter
    latency: Histogram
    streams: Gauge
    sockets: Gauge


@lru_cache(maxsize=1)
def web_metrics() -> WebMetrics:
    """Created on first use, after :func:`shared.metrics.prepare` (only when metrics are on)."""
    metrics.prepare()
    return WebMetrics(
        requests=Counter("switchyard_http_requests_total", "HTTP requests answered",
                         ("route", "method", "status")),
        latency=Histogram("switchyard_http_request_duration_seconds",
                          "Time to the response's headers (a stream's first byte)", ("route", "method"),
                          buckets=LATENCY_BUCKETS),
        streams=Gauge("switchyard_http_open_streams", "Streamed responses open now (SSE, NDJSON)", ("kind",),
                      multiprocess_mode="livesum"),
        sockets=Gauge("switchyard_socketio_connections", "socket.io connections open now",
                      multiprocess_mode="livesum"),
    )


def _begin() -> None:
    g.metrics_started = time.perf_counter()


def _answer(response: Response) -> Response:
    recorded = web_metrics()
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    recorded.requests.labels(route, request.method, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        recorded.latency.labels(route, request.method).observe(time.perf_counter() - started)
    kind = STREAM_KINDS.get(response.mimetype)
    if kind is not None and response.is_streamed:
        gauge = recorded.streams.labels(kind)
        gauge.inc()
        response.call_on_close(gauge.dec)
    return response


def install(app: Flask) -> None:
    """Count every request of ``app`` (with ``ENABLE_METRICS``)."""
    if metrics.enabled():
        web_metrics()
        app.before_request(_begin)
        app.after_request(_answer)


def socket_opened() -> None:
    if metrics.enabled():
        web_metrics().sockets.inc()


def socket_closed() -> None:
    if metrics.enabled():
        web_metrics().sockets.dec()


class QueueCollector:
    """The queues' gauges, read from Redis at each scrape (Dramatiq's keys and the workers' heartbeats)."""

    GAUGES = (
        ("waiting", "switchyard_queue_messages", "Messages waiting in the queue"),
        ("delayed", "switchyard_queue_delayed_messages", "Messages waiting for a retry's time"),
        ("dead_letters", "switchyard_queue_dead_letters", "Messages in the queue's dead-letter queue"),
        ("oldest_age", "switchyard_queue_oldest_message_age_seconds", "How long the next message has waited"),
        ("workers", "switchyard_queue_workers", "Live worker processes consuming the queue (heartbeats)"),
        ("threads", "switchyard_queue_worker_threads", "Worker threads of those processes"),
    )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        beats = dashboard.live_workers()
        state = dashboard.queue_state(beats)
        for field, name, doc in self.GAUGES:
            family = GaugeMetricFamily(name, doc, labels=("queue",))
            for queue, values in state.items():
                family.add_metric((queue,), values[field])
            yield family
        yield GaugeMetricFamily("switchyard_workers", "Live worker processes (heartbeats)", value=len(beats))


def _authorise() -> None:
    """``METRICS_TOKEN`` as the bearer token, else an admin's token or API key."""
    token = env("METRICS_TOKEN")
    presented = presented_credential()
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return
    if current_user().role != "admin":
        raise Unauthorized(messages.ACCESS_PROHIBITED)


@blp.route("/metrics", methods=["GET"])
@blp.response(200, content_type="text/plain")
def scrape():
    """Prometheus metrics of the web and worker processes and of the queues (docs/operations.md)."""
    if not metrics.enabled():
        raise NotFound("Metrics are turned off (ENABLE_METRICS=false).")
    _authorise()
    body, content_type = metrics.render(QueueCollector())
    return Response(body, content_type=content_type)
