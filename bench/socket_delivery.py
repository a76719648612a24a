"""socket.io delivery of the web app's chat events: worker → Redis → web processes → browsers.

    .venv/bin/python bench/socket_delivery.py [--events 200] [--sockets 1,20,100] [--rate 50]

Starts two gunicorn (gevent) web processes on a scratch PostgreSQL database and the real Redis, connects
N socket.io clients for one user (websocket transport, split over both processes, as browser tabs
would be), then publishes ``--events`` ``chat:completion`` events from this process through the
write-only Redis manager the workers use, paced at ``--rate`` events/s (a token stream) and then as one
burst. Prints per N: delivery latency p50/p99 (publish → client callback) when paced, deliveries per
second in the burst, and the web processes' memory (RSS) with the sockets connected. The clients run
in this one Python process, so at high N part of the latency is theirs.
Every client must receive every event exactly once and in order.
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import requests

from harness import isolate, percentile, scratch_database

DB_NAME = isolate()

import socketio  # noqa: E402

from shared import socket_events  # noqa: E402


def _rss_mb(port: int) -> float:
    """Resident memory of the gunicorn worker serving ``port`` (the child of the master)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f"127.0.0.1:{port}" in cmdline and "gunicorn" in cmdline:
                status = (proc / "status").read_text()
                total += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
        except (OSError, StopIteration):
            continue
    return total


class Client:
    def __init__(self, url: str, token: str) -> None:
        self.latencies: list[float] = []
        self.sequence: list[int] = []
        self.done = threading.Event()
        self.expected = 0
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("events", self.on_event)
        self.sio.connect(url, socketio_path="/ws/socket.io", transports=["websocket"], auth={"token": token},
                         wait_timeout=10)

    def on_event(self, data) -> None:
        payload = data["data"]["data"]
        self.latencies.append(time.perf_counter() - payload["sent"])
        self.sequence.append(payload["n"])
        if len(self.sequence) >= self.expected:
            self.done.set()


def _send(clients: list[Client], user_id: str, count: int, rate: float | None) -> float:
    """Publish ``count`` events (paced at ``rate``/s, or at once) and wait for every client; returns seconds."""
    for client in clients:
        client.latencies, client.sequence, client.expected = [], [], count
        client.done.clear()
    start = time.perf_counter()
    for n in range(count):
        if rate:
            time.sleep(max(0.0, start + n / rate - time.perf_counter()))
        socket_events.emit_chat_event(user_id, "bench-chat", "bench-msg", "chat:completion",
                                      {"n": n, "sent": time.perf_counter(), "content": "x" * 40})
    for client in clients:
        client.done.wait(60)
    elapsed = time.perf_counter() - start
    for client in clients:
        assert client.sequence == list(range(count)), "lost, duplicated or reordered events"
    return elapsed


def run(urls: list[str], ports: list[int], token: str, user_id: str, sockets: int, count: int,
        rate: float) -> dict:
    clients = [Client(urls[i % len(urls)], token) for i in range(sockets)]
    time.sleep(0.5)
    rss = sum(_rss_mb(p) for p in ports)
    _send(clients, user_id, count, rate)
    latencies = [x for c in clients for x in c.latencies]
    burst = _send(clients, user_id, count, None)
    for client in clients:
        client.sio.disconnect()
    return {"p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "rate": sockets * count / burst, "rss": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--sockets", default="1,20,100")
    parser.add_argument("--rate", type=float, default=50.0, help="paced events per second")
    args = parser.parse_args()
    from tests.e2e.processes import web_server

    with scratch_database(DB_NAME), web_server() as first, web_server() as second:
        signup = requests.post(f"{first}/api/v1/auths/signup",
                               json={"name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"})
        user = signup.json()
        ports = [int(u.rsplit(":", 1)[1]) for u in (first, second)]
        idle = sum(_rss_mb(p) for p in ports)
        print(f"socket.io delivery, {args.events} chat:completion events at {args.rate:.0f}/s, then as a burst; "
              f"2 web processes (idle RSS {idle:.0f} MB together)")
        print(f"{'sockets':>8} {'p50 ms':>8} {'p99 ms':>8} {'burst deliveries/s':>19} {'web RSS MB':>11}")
        for sockets in (int(s) for s in args.sockets.split(",")):
            r = run([first, second], ports, user["token"], user["id"], sockets, args.events, args.rate)
            print(f"{sockets:>8} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['rate']:>19.0f} {r['rss']:>11.0f}")


if __name__ == "__main__":
    main()
