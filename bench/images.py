"""Image generations per second through the queue, against the fake AUTOMATIC1111, beside calling it directly.

    .venv/bin/python bench/images.py [--requests 64] [--concurrency 1 8] [--size 64x64] [--n 1]

Starts the fake AUTOMATIC1111 (tests/fakes/images.py: it answers at once with real PNGs), a scratch
PostgreSQL database, a real ``dramatiq workers.main`` and gunicorn (gevent) as the Procfile runs them; then,
for each concurrency level, ``--requests`` generations of ``--n`` images:

- directly: ``POST /sdapi/v1/txt2img`` on the fake (what the engine itself costs here), and
- through Switchyard: ``POST /api/v1/images/generations`` (a job on the ``images`` queue, the engine's
  answer decoded, each image stored as a file of the user, Open WebUI's list answered);

and prints requests per second and latency p50/p99 for both. Every answer through Switchyard is checked
(``n`` images, ``image/png``).
"""
from __future__ import annotations

import argparse
import base64
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import isolate, machine, percentile, print_table, scratch_database

DB_NAME = isolate("sy_bench_images")


def timed(call, count: int, concurrency: int) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) of ``count`` calls from ``concurrency`` threads."""
    def one(_index: int) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--size", default="64x64")
    parser.add_argument("--n", type=int, default=1, help="images per request")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=8)
    args = parser.parse_args()
    args.machine = machine()

    from tests.fakes.fixtures import FAKE_A1111_AUTH
    from tests.fakes.images import FakeAutomatic1111

    fake = FakeAutomatic1111(auth=FAKE_A1111_AUTH).start()
    try:
        bench(args, fake, FAKE_A1111_AUTH)
    finally:
        fake.stop()


def bench(args: argparse.Namespace, fake, auth: str) -> None:
    from tests.e2e.processes import web_server
    from tests.jobs.worker import running_worker

    width, height = (int(part) for part in args.size.split("x"))
    direct_headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
    direct_body = {"prompt": "a lighthouse", "batch_size": args.n, "width": width, "height": height}
    with scratch_database(DB_NAME):
        env = {"AIOHTTP_CLIENT_TIMEOUT": "60"}
        with running_worker(processes=args.worker_processes, threads=args.worker_threads, modules=(), env=env), \
                web_server(env) as url:
            client = requests.Session()
            token = client.post(f"{url}/api/v1/auths/signup", json={
                "name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            client.post(f"{url}/api/v1/images/config/update", headers=headers, json={
                "ENABLE_IMAGE_GENERATION": True, "IMAGE_GENERATION_ENGINE": "automatic1111",
                "AUTOMATIC1111_BASE_URL": fake.url, "AUTOMATIC1111_API_AUTH": auth, "IMAGE_SIZE": args.size,
            }).raise_for_status()

            def direct() -> None:
                response = requests.post(f"{fake.url}/sdapi/v1/txt2img", json=direct_body, headers=direct_headers,
                                         timeout=60)
                response.raise_for_status()

            def through() -> None:
                response = requests.post(f"{url}/api/v1/images/generations", headers=headers,
                                         json={"prompt": "a lighthouse", "n": args.n}, timeout=120)
                response.raise_for_status()
                images = response.json()
                if len(images) != args.n or any(image["content_type"] != "image/png" for image in images):
                    raise AssertionError(f"unexpected answer: {images}")

            timed(through, 8, 4)  # warm up: worker threads, connections
            rows = []
            for concurrency in args.concurrency:
                direct_rate, direct_ms = timed(direct, args.requests, concurrency)
                rate, latencies = timed(through, args.requests, concurrency)
                rows.append((str(concurrency), str(args.requests), f"{direct_rate:.0f}", f"{rate:.1f}",
                             f"{percentile(direct_ms, 0.5):.1f}", f"{percentile(latencies, 0.5):.1f}",
                             f"{percentile(latencies, 0.99):.1f}"))
            print(f"\nimage generations of {args.n} x {args.size} PNG against the fake AUTOMATIC1111, "
                  f"{args.worker_processes} worker processes x {args.worker_threads} threads; at start: {args.machine}\n")
            print_table(("concurrency", "requests", "direct req/s", "through req/s", "direct p50 ms",
                         "through p50 ms", "through p99 ms"), rows)


if __name__ == "__main__":
    main()
