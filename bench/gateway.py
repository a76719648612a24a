"""Added latency of the LLM gateway over calling the upstream directly, same run, same machine.

    .venv/bin/python bench/gateway.py [--tokens 200] [--token-delay 0.002] [--streams 3] [--completions 200]

Starts the fake OpenAI and fake Ollama servers (tests/fakes), a scratch PostgreSQL database, a real
``dramatiq workers.main`` and gunicorn (gevent) as the Procfile runs them, then for concurrency 1, 16
and 64 runs ``--streams`` x concurrency streamed completions of ``--tokens`` tokens:

- directly against the fake (``/v1/chat/completions`` SSE, ``/api/chat`` NDJSON), and
- through Switchyard (``/api/chat/completions`` for the OpenAI model, ``/ollama/api/chat``),

and prints time to first token (p50/p99) and total time (p50/p99) for both and the difference.
Each of the ``concurrency`` clients runs its streams one after another. Above concurrency 1 every
level runs twice: ``burst`` (all clients start in the same instant, as if everyone pressed send at
once, and since the streams are equally long they stay in step) and ``steady`` (client i starts
i/concurrency of one stream's duration late, so ``concurrency`` streams are in flight at any time and
each starts while the others are mid-answer).
Every stream is checked token by token (``w0 .. wN`` in order: nothing lost, duplicated or
reordered). Last, non-streamed completions per second at concurrency 16, direct and through.
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from harness import isolate, machine, percentile, scratch_database

DB_NAME = isolate()

CONCURRENCY = (1, 16, 64)
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=128))


def _sse_tokens(response: requests.Response):
    for line in response.iter_lines(chunk_size=None):
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if "error" in chunk:
            raise RuntimeError(chunk["error"])
        for choice in chunk.get("choices") or []:
            if choice["delta"].get("content"):
                yield choice["delta"]["content"]


def _ndjson_tokens(response: requests.Response):
    for line in response.iter_lines(chunk_size=None):
        part = json.loads(line)
        if "error" in part:
            raise RuntimeError(part["error"])
        if part["message"]["content"]:
            yield part["message"]["content"]


def one_stream(client: requests.Session, url: str, headers: dict, body: dict, reader, tokens: int
               ) -> tuple[float, float]:
    """(time to first token, total time) of one streamed completion, checking every token."""
    started = time.perf_counter()
    first = None
    received = []
    with client.post(url, headers=headers, json=body, stream=True, timeout=120) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        for token in reader(response):
            if first is None:
                first = time.perf_counter() - started
            received.append(token.strip())
    total = time.perf_counter() - started
    expected = [f"w{i}" for i in range(tokens)]
    if received != expected:
        raise AssertionError(f"stream corrupted (job {response.headers.get('X-Job-Id')}): {len(received)} tokens, "
                             f"first difference at "
                             f"{next((i for i, (a, b) in enumerate(zip(received, expected)) if a != b), len(received))}")
    return first or total, total


def run_streams(target: dict, concurrency: int, count: int, tokens: int, ramp: float = 0.0
                ) -> tuple[list[float], list[float]]:
    """``count`` streams from ``concurrency`` clients; client i starts ``ramp * i / concurrency`` s late."""
    def client(index: int) -> list[tuple[float, float]]:
        # Each client its own connection, opened for this run: a kept-alive one from an earlier run may
        # be closed by the server (gunicorn's 2 s keep-alive) just as it is reused.
        time.sleep(ramp * index / concurrency)
        share = count // concurrency + (index < count % concurrency)
        with requests.Session() as own:
            return [one_stream(own, target["url"], target["headers"], target["body"], target["reader"], tokens)
                    for _ in range(share)]

    with ThreadPoolExecutor(concurrency) as pool:
        results = [r for rs in pool.map(client, range(concurrency)) for r in rs]
    return [r[0] * 1000 for r in results], [r[1] * 1000 for r in results]


def completions_per_second(url: str, headers: dict, body: dict, count: int, concurrency: int) -> float:
    def call(_i):
        response = session.post(url, headers=headers, json=body, timeout=60)
        response.raise_for_status()
        assert response.json()["choices"][0]["message"]["content"]

    session.close()  # no kept-alive connection from before (see run_streams)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--token-delay", type=float, default=0.002, help="seconds between the fake's tokens")
    parser.add_argument("--streams", type=int, default=3, help="streams per concurrency slot (min 30 in all)")
    parser.add_argument("--completions", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY),
                        help="concurrency levels to run (default 1 16 64)")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=48,
                        help="threads per worker process (a stream holds one from start to end: 2 x 48 leaves "
                             "room for the 64 concurrent streams)")
    args = parser.parse_args()
    args.machine = machine()  # before anything starts

    from tests.fakes.fixtures import FAKE_OPENAI_KEY
    from tests.fakes.ollama import FakeOllama
    from tests.fakes.openai import FakeOpenAI

    fake_openai = FakeOpenAI(api_key=FAKE_OPENAI_KEY).start()
    fake_ollama = FakeOllama().start()
    for fake in (fake_openai, fake_ollama):
        fake.behave(delay=args.token_delay)
    try:
        bench(args, fake_openai, fake_ollama)
    finally:
        fake_openai.stop()
        fake_ollama.stop()


def bench(args: argparse.Namespace, fake_openai, fake_ollama) -> None:
    """Both tables, on a scratch database with a worker and a web process."""
    from tests.e2e.gateway_stack import stack_env
    from tests.e2e.processes import web_server
    from tests.fakes.fixtures import FAKE_OPENAI_KEY
    from tests.jobs.worker import running_worker

    with scratch_database(DB_NAME):
        # The tests' short idle wait makes idle consumers poll 20 times a second; run with the default.
        env = {**stack_env(fake_ollama.url, fake_openai.url), "AIOHTTP_CLIENT_TIMEOUT": "60", "JOB_IDLE_WAIT_MS": ""}
        with running_worker(processes=args.worker_processes, threads=args.worker_threads, modules=(), env=env), \
                web_server(env) as url:
            token = session.post(f"{url}/api/v1/auths/signup", json={
                "name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"}).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            messages = [{"role": "user", "content": "count"}]
            targets = {
                "openai SSE": (
                    {"url": f"{fake_openai.url}/chat/completions", "headers": {"Authorization": f"Bearer {FAKE_OPENAI_KEY}"},
                     "body": {"model": "gpt-fake", "messages": messages, "stream": True, "max_tokens": args.tokens},
                     "reader": _sse_tokens},
                    {"url": f"{url}/api/chat/completions", "headers": auth,
                     "body": {"model": "gpt-fake", "messages": messages, "stream": True, "max_tokens": args.tokens},
                     "reader": _sse_tokens}),
                "ollama NDJSON": (
                    {"url": f"{fake_ollama.url}/api/chat", "headers": {},
                     "body": {"model": "llama-fake:latest", "messages": messages,
                              "options": {"num_predict": args.tokens}}, "reader": _ndjson_tokens},
                    {"url": f"{url}/ollama/api/chat", "headers": auth,
                     "body": {"model": "llama-fake:latest", "messages": messages,
                              "options": {"num_predict": args.tokens}}, "reader": _ndjson_tokens}),
            }
            for direct, through in targets.values():  # warm up: model registry, connections, worker threads
                run_streams(direct, 4, 8, args.tokens)
                try:
                    run_streams(through, 4, 8, args.tokens)
                except (RuntimeError, AssertionError, requests.RequestException) as error:
                    print(f"warm-up through Switchyard failed: {error}")

            print(f"\n{args.tokens}-token streams, fake upstream token delay {args.token_delay * 1000:g} ms "
                  f"(times in ms; added = through Switchyard - direct); at start: {args.machine}\n")
            header = (f"{'protocol':<14} {'conc':>4} {'start':>6} {'n':>4} | {'TTFT p50 direct':>15} {'through':>8} {'added':>7} | "
                      f"{'TTFT p99 direct':>15} {'through':>8} {'added':>7} | {'total p50 direct':>16} {'through':>8} | "
                      f"{'total p99 direct':>16} {'through':>8} | chunks")
            print(header)
            print("-" * len(header))
            ramp = args.tokens * args.token_delay  # about one stream's duration
            runs = [(c, start) for c in args.concurrency for start in (("burst", "steady") if c > 1 else ("-",))]
            for name, (direct, through) in targets.items():
                for concurrency, start in runs:
                    count = max(30, args.streams * concurrency)
                    late = ramp if start == "steady" else 0.0
                    d_ttft, d_total = run_streams(direct, concurrency, count, args.tokens, late)
                    try:
                        t_ttft, t_total = run_streams(through, concurrency, count, args.tokens, late)
                    except (RuntimeError, AssertionError, requests.RequestException) as error:
                        print(f"{name:<14} {concurrency:>4} {start:>6} {count:>4} | FAILED through Switchyard: {error}")
                        continue
                    p = {k: (percentile(d, q), percentile(t, q)) for k, d, t, q in (
                        ("ttft50", d_ttft, t_ttft, 0.5), ("ttft99", d_ttft, t_ttft, 0.99),
                        ("tot50", d_total, t_total, 0.5), ("tot99", d_total, t_total, 0.99))}
                    print(f"{name:<14} {concurrency:>4} {start:>6} {count:>4} | {p['ttft50'][0]:>15.1f} {p['ttft50'][1]:>8.1f} "
                          f"{p['ttft50'][1] - p['ttft50'][0]:>7.1f} | {p['ttft99'][0]:>15.1f} {p['ttft99'][1]:>8.1f} "
                          f"{p['ttft99'][1] - p['ttft99'][0]:>7.1f} | {p['tot50'][0]:>16.1f} {p['tot50'][1]:>8.1f} | "
                          f"{p['tot99'][0]:>16.1f} {p['tot99'][1]:>8.1f} | ok {2 * count}")

            for fake in (fake_openai, fake_ollama):
                fake.behave(delay=0)
            body = {"model": "gpt-fake", "messages": messages, "max_tokens": 20}
            direct_rate = completions_per_second(f"{fake_openai.url}/chat/completions",
                                                 {"Authorization": f"Bearer {FAKE_OPENAI_KEY}"}, body,
                                                 args.completions, 16)
            through_rate = completions_per_second(f"{url}/api/chat/completions", auth, body, args.completions, 16)
            print(f"\nnon-streamed completions/s at concurrency 16 ({args.completions} requests): "
                  f"direct {direct_rate:.0f}/s, through Switchyard {through_rate:.0f}/s "
                  f"(added {1000 / through_rate - 1000 / direct_rate:.1f} ms per request at this load)")


if __name__ == "__main__":
    main()
