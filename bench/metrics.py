"""What the Prometheus metrics cost: per request, per job, and per scrape.

    .venv/bin/python bench/metrics.py [--requests 400] [--rounds 30] [--jobs 2000]

Real processes on loopback, as the Procfile runs them (see bench/harness.py for the scratch database and Redis):

- per request: two gunicorn gevent web processes side by side, one with ``ENABLE_METRICS=true`` and one with
  ``false``; one keep-alive client (``http.client``) sends ``--requests`` sequential requests to each in turn,
  ``--rounds`` times, the first of the two alternating, to ``/health`` (no database) and ``/api/v1/auths/`` (a
  signed-in read): many short rounds, so that the machine's changing load falls on both alike. The medians of
  all rounds, and their ratio.
  The request hooks alone are also timed in-process.
- per job: the middleware's own hooks in-process (``before_process_message`` + ``after_process_message``, the
  rider that counts the minute queued but not sent), and the no-op job throughput of one worker process × 8
  threads with metrics on and off (``--jobs`` queued first, then the worker starts; alternating, twice each).
- per scrape: ``GET /metrics`` as an admin once the runs above have filled the series.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import time

import requests

from harness import (
    BIN, free_port, isolate, machine, print_table, scratch_database, start_process, start_web, stop_process,
)

DB_NAME = isolate()
PATHS = ("/health", "/api/v1/auths/")


def start_metrics_web(port: int, metrics_on: bool):
    os.environ["ENABLE_METRICS"] = "true" if metrics_on else "false"
    return start_web(port)


def timed_requests(port: int, path: str, token: str, count: int) -> list[float]:
    """Microseconds per request, sequential on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(count + 50):  # the first 50 warm the connection and the caches
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
        timings.append((time.perf_counter() - started) * 1e6)
    connection.close()
    return timings[50:]


def per_request(ports: dict[bool, int], token: str, count: int, rounds: int) -> dict[tuple[str, bool], float]:
    timings: dict[tuple[str, bool], list[float]] = {(path, on): [] for path in PATHS for on in ports}
    for round_ in range(rounds):
        order = list(ports.items()) if round_ % 2 == 0 else list(reversed(ports.items()))
        for path in PATHS:  # which process goes first alternates: the first one measured after a switch is slower
            for on, port in order:
                timings[(path, on)] += timed_requests(port, path, token, count)
    return {key: statistics.median(values) for key, values in timings.items()}


def request_hook_cost(samples: int = 20000) -> float:
    """Microseconds of the request hooks (``web/metrics.py``) around one request, in-process (metrics on)."""
    os.environ["ENABLE_METRICS"] = "true"
    from flask import Response

    from web import metrics
    from web.app import create_app

    with create_app().test_request_context("/api/v1/jobs/some-job-id"):
        response = Response("ok")
        started = time.perf_counter()
        for _ in range(samples):
            metrics._begin()
            metrics._answer(response)
        return (time.perf_counter() - started) / samples * 1e6


def hook_cost(samples: int = 20000) -> float:
    """Microseconds of JobMetrics' hooks around one message, in-process (metrics on)."""
    os.environ["ENABLE_METRICS"] = "true"
    from dramatiq.message import Message

    from shared.jobs.broker import SwitchyardBroker
    from workers.metrics import JobMetrics

    broker, middleware = SwitchyardBroker.__new__(SwitchyardBroker), JobMetrics()
    broker.settle_with = lambda commands, scripts: None  # the rider rides the ack: queued, not sent here
    message = Message(queue_name="default", actor_name="system.noop", args=(), kwargs={}, options={})
    started = time.perf_counter()
    for _ in range(samples):
        middleware.before_process_message(broker, message)
        middleware.after_process_message(broker, message, result=None)
    return (time.perf_counter() - started) / samples * 1e6


def throughput(count: int, metrics_on: bool) -> float:
    """No-op jobs per second of one worker process × 8 threads, all queued before it starts."""
    from shared.db import session_scope
    from shared.jobs import catalog
    from shared.models import Job
    from sqlalchemy import func, select

    with session_scope() as session:
        for _ in range(count):
            catalog.send(session, catalog.NOOP, catalog.Noop(), owner_id=None, kind="bench")
    os.environ["ENABLE_METRICS"] = "true" if metrics_on else "false"
    worker = start_process([str(BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", "8"],
                           lambda p: "is ready for action" in open(p.log_path).read())
    started = time.perf_counter()
    try:
        deadline = time.monotonic() + 300
        while True:
            with session_scope() as session:
                left = session.scalar(select(func.count()).select_from(Job).where(Job.status != "succeeded"))
            if not left:
                return count / (time.perf_counter() - started)
            assert time.monotonic() < deadline, f"{left} jobs unfinished"
            time.sleep(0.05)
    finally:
        stop_process(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()

    machine_at_start = machine()
    rows: list[tuple[str, str]] = []
    webs = []
    with scratch_database(DB_NAME):
        try:
            ports = {True: free_port(), False: free_port()}
            webs = [start_metrics_web(port, on) for on, port in ports.items()]
            token = requests.post(f"http://127.0.0.1:{ports[True]}/api/v1/auths/signup", timeout=10, json={
                "name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"}).json()["token"]
            medians = per_request(ports, token, args.requests, args.rounds)
            for path in PATHS:
                on, off = medians[(path, True)], medians[(path, False)]
                rows.append((f"GET {path}, median per request, metrics on / off",
                             f"{on:.0f} / {off:.0f} µs: {on - off:+.0f} µs, ratio {on / off:.3f}"))

            rows.append(("request hooks around one request (in-process)", f"{request_hook_cost():.1f} µs"))
            rows.append(("JobMetrics hooks around one message (in-process)", f"{hook_cost():.1f} µs"))
            rates = {True: [], False: []}
            for on in (True, False, True, False):
                rates[on].append(throughput(args.jobs, on))
            on, off = max(rates[True]), max(rates[False])
            rows.append((f"no-op jobs/s, 1 worker process × 8 threads, metrics on / off (best of 2, {args.jobs} jobs)",
                         f"{on:,.0f} / {off:,.0f}: {(1 / on - 1 / off) * 1e6:+.0f} µs per job, ratio {off / on:.3f}"))

            scrape = []
            for _ in range(20):
                started = time.perf_counter()
                response = requests.get(f"http://127.0.0.1:{ports[True]}/metrics", timeout=30,
                                        headers={"Authorization": f"Bearer {token}"})
                scrape.append((time.perf_counter() - started) * 1000)
                assert response.ok, response.text
            series = sum(1 for line in response.text.splitlines() if line and not line.startswith("#"))
            rows.append(("GET /metrics (admin), median", f"{statistics.median(scrape):.1f} ms for {series} series"))
        finally:
            for web in webs:
                stop_process(web)

    print(f"\nSwitchyard metrics cost — PostgreSQL + Redis on loopback; at start: {machine_at_start}\n")
    print_table(("measure", "result"), rows)


if __name__ == "__main__":
    main()
