"""What a filter function adds to a chat: time to the first token and to the whole streamed answer of a chat
completion against the fake Ollama, with no filter, then with a global filter whose inlet and outlet do nothing,
then with a global filter whose ``stream`` (called on every chunk) does nothing.

    .venv/bin/python bench/functions.py [--requests 20]

Starts the fake Ollama (tests/fakes/ollama.py), a scratch PostgreSQL database, a real ``dramatiq workers.main``
(serving every queue, ``extensions`` included) and gunicorn (gevent) as the Procfile runs them. Each request is
a streamed ``POST /api/chat/completions`` (the filter's inlet runs as a job on the ``extensions`` queue, in a
sandboxed child process, before the model is called; a stream filter's module is loaded once per answer by an
``extensions.serve`` job and fed every chunk). Requests run one at a time; the table gives the medians and
the added time.
"""
from __future__ import annotations

import argparse
import time

import requests

from harness import isolate, machine, percentile, print_table, scratch_database

DB_NAME = isolate("sy_bench_functions")
MODEL = "llama-fake:latest"
EMPTY_FILTER = '''
class Filter:
    def inlet(self, body: dict) -> dict:
        return body

    def outlet(self, body: dict) -> dict:
        return body
'''
EMPTY_STREAM_FILTER = '''
class Filter:
    def stream(self, event: dict) -> dict:
        return event
'''
CASES = {"no filter": None, "empty inlet/outlet filter": ("empty", EMPTY_FILTER),
         "empty inlet/outlet and stream filters": ("stream", EMPTY_STREAM_FILTER)}


def one_answer(url: str, headers: dict) -> tuple[float, float]:
    """(ms to the first content token, ms to the end) of one streamed chat completion."""
    started = time.perf_counter()
    first = None
    with requests.post(f"{url}/api/chat/completions", headers=headers, stream=True, timeout=60, json={
            "model": MODEL, "stream": True, "messages": [{"role": "user", "content": "one two three"}]}) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines(decode_unicode=True):
            if first is None and '"content":"' in (line or "") and '"content":""' not in line:
                first = time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - started) * 1000, (end - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    started_on = machine()

    from tests.e2e.processes import web_server
    from tests.fakes.ollama import FakeOllama
    from tests.jobs.worker import running_worker

    fake = FakeOllama().start()
    try:
        with scratch_database(DB_NAME):
            env = {"OLLAMA_BASE_URL": fake.url}
            with running_worker(processes=1, threads=8, modules=(), env=env), web_server(env) as url:
                client = requests.Session()
                token = client.post(f"{url}/api/v1/auths/signup", json={
                    "name": "Bench", "email": "bench@example.com", "password": "bench-pass-1"}).json()["token"]
                headers = {"Authorization": f"Bearer {token}"}
                client.get(f"{url}/api/models?refresh=true", headers=headers).raise_for_status()
                rows, medians = [], {}
                for label, added_filter in CASES.items():
                    if added_filter:
                        function_id, content = added_filter
                        client.post(f"{url}/api/v1/functions/create", headers=headers, timeout=60, json={
                            "id": function_id, "name": function_id, "content": content}).raise_for_status()
                        for switch in ("toggle", "toggle/global"):
                            client.post(f"{url}/api/v1/functions/id/{function_id}/{switch}",
                                        headers=headers).raise_for_status()
                    for _ in range(3):
                        one_answer(url, headers)  # warm up
                    timings = [one_answer(url, headers) for _ in range(args.requests)]
                    first = [t[0] for t in timings]
                    whole = [t[1] for t in timings]
                    medians[label] = percentile(first, 0.5)
                    rows.append((label, str(args.requests), f"{percentile(first, 0.5):.0f}",
                                 f"{percentile(first, 0.9):.0f}", f"{percentile(whole, 0.5):.0f}"))
    finally:
        fake.stop()
    print(f"\nstreamed chat completions against the fake Ollama, one at a time; at start: {started_on}\n")
    print_table(("filters", "requests", "first token p50 ms", "first token p90 ms", "whole answer p50 ms"), rows)
    for label in list(CASES)[1:]:
        print(f"{label}: +{medians[label] - medians['no filter']:.0f} ms on the median time to the first token")


if __name__ == "__main__":
    main()
