"""Job platform benchmark: round trip, throughput, idle pickup and 1,000 SSE streams.

    .venv/bin/python bench/jobs.py [--roundtrips 300] [--jobs 4000] [--streams 1000]

Runs real processes on loopback, as the Procfile does: one gunicorn gevent web process, Dramatiq
worker processes (``workers.main``), PostgreSQL (a scratch database on ``BENCH_PG_ADMIN_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres, dropped at the end) and Redis (``BENCH_REDIS_URL``,
default redis://127.0.0.1:6379/0, under a private key prefix). Prints one table.

- round trip: ``POST /api/v1/jobs/probe`` (``Prefer: respond-async`` → 202) then
  ``GET /api/v1/jobs/{id}/events`` until the final status, per client; concurrency 1 and 32. Each client
  keeps one HTTP/1.1 connection of the standard library's ``http.client`` (a lean client: what is timed
  is Switchyard, not a client library; ``requests`` alone adds about 1 ms per request here).
- idle pickup: after 2 s of silence, time from a job's ``queued`` event to its ``running`` event
  (both stamped by the Redis server clock, ms).
- throughput: N no-op jobs enqueued while no worker runs, then 1 or 2 worker processes start;
  jobs/s between the first ``running`` and the last final event (Redis stream ids are server ms).
- streams: N SSE clients on one web process (one client thread with non-blocking sockets), the
  web process's RSS before/after, and the latency of events published to random streams.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import resource
import selectors
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import requests

from harness import (
    BIN, free_port, isolate, machine, percentile, print_table, scratch_database, start_process, start_web,
    stop_process,
)

DB_NAME = isolate()


def start_workers(processes: int, threads: int = 8) -> subprocess.Popen:
    return start_process([str(BIN / "dramatiq"), "workers.main", "--processes", str(processes),
                          "--threads", str(threads)],
                         lambda p: Path(p.log_path).read_text().count("is ready for action") >= processes)


def web_pid(master: subprocess.Popen) -> int:
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
    return int(out[0])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- round trip ---------------------------------------------------------------------------------

class Client:
    """One keep-alive connection to the web process, signed in."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
        self.connection.request(method, path, body=b"{}" if method == "POST" else None,
                                headers={**self.headers, **(headers or {})})
        return self.connection.getresponse()


def one_round_trip(client: Client, one_request: bool = False) -> float:
    """Enqueue then follow the events: two requests, or one (``Accept: text/event-stream`` on the probe)."""
    started = time.perf_counter()
    if one_request:
        stream = client.request("POST", "/api/v1/jobs/probe", {"Accept": "text/event-stream"})
        job_id = "(streamed)"
    else:
        accepted = client.request("POST", "/api/v1/jobs/probe", {"Prefer": "respond-async"})
        body = accepted.read()
        assert accepted.status == 202, body
        job_id = json.loads(body)["job_id"]
        stream = client.request("GET", f"/api/v1/jobs/{job_id}/events")
    for line in stream:
        if line.startswith(b"data: ") and b'"status": "succeeded"' in line:
            elapsed = (time.perf_counter() - started) * 1000
            stream.read()  # the rest of the stream (it ends after this event), so the connection is reused
            return elapsed
    raise RuntimeError(f"job {job_id} ended without success")


def round_trips(port: int, token: str, concurrency: int, total: int,
                one_request: bool = False) -> tuple[list[float], list[str]]:
    """Round-trip timings (ms) and the errors of the ones that failed."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(count: int) -> None:
        connection = Client(port, token)
        one_round_trip(connection, one_request)  # warm the connection
        for _ in range(count):
            try:
                timing = one_round_trip(connection, one_request)
            except Exception as error:  # noqa: BLE001 - counted and shown, not hidden
                with lock:
                    errors.append(repr(error)[:200])
                connection = Client(port, token)  # the failed one may be mid-response
                continue
            with lock:
                timings.append(timing)

    threads = [threading.Thread(target=client, args=(max(1, total // concurrency),)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, errors


# --- idle pickup ----------------------------------------------------------------------------------

def idle_pickups(samples: int, idle: float = 2.0) -> list[float]:
    """Milliseconds from a job's ``queued`` event to its ``running`` event after ``idle`` s of silence."""
    from shared.db import session_scope
    from shared.jobs import catalog, events

    latencies = []
    for _ in range(samples):
        time.sleep(idle)
        with session_scope() as session:
            job = catalog.send(session, catalog.NOOP, catalog.Noop(), owner_id=None, kind="bench")
        stamps = {}
        for event in events.iter_events(job.id, keepalive=5):
            if event is not None and event.type == "status":
                stamps[event.data["status"]] = int(event.id.split("-")[0])
        latencies.append(stamps["running"] - stamps["queued"])
    return latencies


# --- throughput ------------------------------------------------------------------------------------

def enqueue_many(count: int) -> list[str]:
    from shared.db import session_scope
    from shared.jobs import catalog

    ids = []
    with session_scope() as session:
        for _ in range(count):
            ids.append(catalog.send(session, catalog.NOOP, catalog.Noop(), owner_id=None, kind="bench").id)
    return ids


def throughput(processes: int, count: int) -> float:
    from shared.jobs import events
    from shared.redis_client import get_redis

    ids = enqueue_many(count)
    workers = start_workers(processes)
    try:
        client = get_redis()
        deadline = time.monotonic() + 300
        pending = list(ids)
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} jobs unfinished"
            pipe = client.pipeline(transaction=False)
            for job_id in pending[:500]:
                pipe.xrevrange(events.stream_key(job_id), count=1)
            last = pipe.execute()
            done = {job_id for job_id, entries in zip(pending[:500], last)
                    if entries and json.loads(entries[0][1]["data"]).get("status") == "succeeded"}
            pending = [job_id for job_id in pending if job_id not in done]
            if pending:
                time.sleep(0.2)
        starts, ends = [], []
        pipe = client.pipeline(transaction=False)
        for job_id in ids:
            pipe.xrange(events.stream_key(job_id))
        for entries in pipe.execute():
            starts += [int(i.split("-")[0]) for i, f in entries if '"running"' in f["data"]]
            ends.append(int(entries[-1][0].split("-")[0]))
        return count / ((max(ends) - min(starts)) / 1000)
    finally:
        stop_process(workers)


# --- many streams ---------------------------------------------------------------------------------

def hold_streams(port: int, token: str, web_master: subprocess.Popen, count: int, events_total: int
                 ) -> dict[str, float]:
    from sqlalchemy import insert

    from shared.db import get_engine
    from shared.jobs import events
    from shared.models import Job
    from shared.models.base import new_id, now

    job_ids = [new_id() for _ in range(count)]
    with get_engine().begin() as conn:
        conn.execute(insert(Job), [dict(id=i, kind="bench.stream", queue="default", actor="system.noop",
                                        owner_id=None, status="running", progress=0.0, progress_message="",
                                        attempts=1, payload={}, options={}, created_at=now(), updated_at=now())
                                   for i in job_ids])
    for job_id in job_ids:
        events.publish(job_id, "status", {"status": "running"})

    pid = web_pid(web_master)
    rss_before = rss_mb(pid)
    opened = time.monotonic()
    selector = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytes] = {}
    received: list[float] = []
    for job_id in job_ids:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(f"GET /api/v1/jobs/{job_id}/events HTTP/1.1\r\nHost: bench\r\n"
                     f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        buffers[sock] = b""

    ready: set[socket.socket] = set()

    def pump(seconds: float, until_ready: bool = False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until_ready and len(ready) == count):
            for key, _ in selector.select(timeout=0.01):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                arrived = time.time()
                if not data:
                    selector.unregister(sock)
                    continue
                buffers[sock] += data
                *lines, buffers[sock] = buffers[sock].split(b"\n")
                for line in lines:
                    if line.startswith(b"data: ") and b'"running"' in line:
                        ready.add(sock)
                    if line.startswith(b"data: ") and b'"sent"' in line:
                        received.append((arrived - json.loads(line[6:])["sent"]) * 1000)

    pump(120.0, until_ready=True)  # every stream connected and caught up (it saw its "running" event)
    connect_seconds = time.monotonic() - opened
    rss_held = rss_mb(pid)
    targets = random.choices(job_ids, k=events_total)
    publisher_done = threading.Event()

    def publish() -> None:
        for job_id in targets:
            events.publish(job_id, "delta", {"sent": time.time()})
            time.sleep(0.005)
        publisher_done.set()

    threading.Thread(target=publish, daemon=True).start()
    while not publisher_done.is_set():
        pump(0.2)
    pump(1.0)
    connected = len(selector.get_map())
    for job_id in job_ids:
        events.publish(job_id, "status", {"status": "succeeded"})
    pump(2.0)
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return {"connected": connected, "ready": len(ready), "connect_seconds": connect_seconds, "rss_before": rss_before, "rss_held": rss_held,
            "received": len(received), "expected": events_total,
            "p50": statistics.median(received), "p99": percentile(received, 0.99)}


# --- main -----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roundtrips", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--stream-events", type=int, default=1000)
    args = parser.parse_args()

    machine_at_start = machine()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))  # streams + children
    web = workers = None
    rows: list[tuple[str, str, str]] = []
    with scratch_database(DB_NAME):
        try:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            web = start_web(port, "--worker-connections", "3000")
            token = requests.post(f"{base}/api/v1/auths/signup", timeout=10, json={
                "name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"}).json()["token"]

            workers = start_workers(1)
            for concurrency, one_request in ((1, False), (32, False), (1, True), (32, True)):
                started = time.monotonic()
                timings, errors = round_trips(port, token, concurrency,
                                              args.roundtrips if concurrency == 1 else args.roundtrips * 4,
                                              one_request)
                rate = len(timings) / (time.monotonic() - started)
                how = "one request (POST, Accept: text/event-stream)" if one_request else "HTTP enqueue → final SSE event"
                rows.append((f"round trip {how}, concurrency {concurrency}",
                             f"p50 {statistics.median(timings):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms "
                             f"({len(timings)} ok, {len(errors)} failed, {rate:.0f}/s)",
                             "p50 ≤ 5 ms" if concurrency == 1 else ""))
                if errors:
                    print(f"round trip errors at concurrency {concurrency}: {sorted(set(errors))[:5]}")
            pickups = idle_pickups(10)
            rows.append(("idle pickup (2 s idle, queued → running event)",
                         f"p50 {statistics.median(pickups):.1f} ms, max {max(pickups):.1f} ms", ""))
            stop_process(workers)
            workers = None

            for processes in (1, 2):
                rate = throughput(processes, args.jobs)
                rows.append((f"throughput, {processes} worker process{'es' if processes > 1 else ''} × 8 threads",
                             f"{rate:,.0f} jobs/s ({args.jobs} no-op jobs)", "≥ 1,000 jobs/s"))

            streams = hold_streams(port, token, web, args.streams, args.stream_events)
            rows.append((f"{args.streams} SSE streams on one web process",
                         f"{streams['connected']} held ({streams['ready']} live after {streams['connect_seconds']:.1f} s); "
                         f"RSS {streams['rss_before']:.0f} → {streams['rss_held']:.0f} MB",
                         "≥ 1,000 held"))
            rows.append((f"event latency across {args.streams} streams",
                         f"p50 {streams['p50']:.1f} ms, p99 {streams['p99']:.1f} ms "
                         f"({streams['received']}/{streams['expected']} events)", "p99 ≤ 50 ms"))
        finally:
            for process in (workers, web):
                if process is not None:
                    stop_process(process)

    print(f"\nSwitchyard job platform — PostgreSQL + Redis on loopback; at start: {machine_at_start}\n")
    print_table(("measure", "result", "target"), rows)


if __name__ == "__main__":
    main()
