"""List and open latency with 10,000 chats for one user, on PostgreSQL.

    .venv/bin/python bench/chats.py [--chats 10000] [--requests 300]

Creates a scratch database on ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres),
migrates it, seeds one user with ``--chats`` chats (plus as many for a second user, so the index has
to pick one user's rows), then times the API in-process through Flask's test client (application,
SQLAlchemy and PostgreSQL; no HTTP server or network) and prints p50/p99 per call, then saves and
opens a 5,000-message chat ten times (p99 of ten samples is their maximum). The query plans
are printed too, to show the lists use the index rather than a scan. The database is dropped at the end.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid

from harness import isolate, percentile, scratch_database

DB_NAME = isolate()


def _chat_object(i: int, turns: int = 5) -> dict:
    messages, parent = {}, None
    for t in range(turns * 2):
        mid = f"{i}-{t}"
        messages[mid] = {"id": mid, "parentId": parent, "childrenIds": [f"{i}-{t + 1}"] if t + 1 < turns * 2 else [],
                         "role": "user" if t % 2 == 0 else "assistant", "model": "llama3",
                         "content": f"Message {t} of chat {i}. " + "Lorem ipsum dolor sit amet. " * 10,
                         "timestamp": 1700000000 + t, "done": True}
        parent = mid
    return {"title": f"Chat {i}", "models": ["llama3"], "params": {}, "files": [], "tags": [],
            "timestamp": 1700000000000, "messages": list(messages.values()),
            "history": {"messages": messages, "currentId": parent}}


def _seed(user_ids: list[str], per_user: int) -> list[str]:
    from sqlalchemy import insert, text

    from shared.db import get_engine
    from shared.models import Chat

    target_ids = []
    base = int(time.time()) - per_user * 60
    with get_engine().begin() as conn:
        for owner in user_ids:
            rows = []
            for i in range(per_user):
                chat_id = str(uuid.uuid4())
                if owner == user_ids[0]:
                    target_ids.append(chat_id)
                chat = _chat_object(i)
                rows.append(dict(id=chat_id, user_id=owner, title=chat["title"], chat=chat, meta={}, variables={},
                                 created_at=base + i * 60, updated_at=base + i * 60, archived=i % 50 == 0,
                                 pinned=i % 500 == 0, current_message_id=chat["history"]["currentId"]))
                if len(rows) == 1000:
                    conn.execute(insert(Chat), rows)
                    rows = []
            if rows:
                conn.execute(insert(Chat), rows)
        conn.execute(text("ANALYZE chat"))
    return target_ids


def _time(client, path: str, headers: dict, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path() if callable(path) else path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    return samples


def _plan(sql: str, **params) -> str:
    from sqlalchemy import text

    from shared.db import get_engine

    with get_engine().connect() as conn:
        lines = [row[0] for row in conn.execute(text("EXPLAIN " + sql), params)]
    return next((line.strip() for line in lines if "Scan" in line), lines[0].strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    with scratch_database(DB_NAME):
        from web.app import create_app

        client = create_app().test_client()
        tokens = []
        for email in ("bench@example.com", "other@example.com"):
            response = client.post("/api/v1/auths/signup", json={"name": "Bench", "email": email, "password": "x"})
            tokens.append(response.get_json())
        headers = {"Authorization": f"Bearer {tokens[0]['token']}"}
        started = time.perf_counter()
        chat_ids = _seed([tokens[0]["id"], tokens[1]["id"]], args.chats)
        seeded = time.perf_counter() - started
        pages = (args.chats + 59) // 60
        cases = [
            ("list page 1 (GET /api/v1/chats/?page=1)", "/api/v1/chats/?page=1"),
            (f"list last page (?page={pages})", f"/api/v1/chats/?page={pages}"),
            ("whole list, no page (GET /api/v1/chats/)", "/api/v1/chats/"),
            ("pinned (GET /api/v1/chats/pinned)", "/api/v1/chats/pinned"),
            ("archived page 1 (GET /api/v1/chats/archived)", "/api/v1/chats/archived"),
            ("open one chat (GET /api/v1/chats/{id}, 10 messages)", lambda: f"/api/v1/chats/{random.choice(chat_ids)}"),
            ("search a title word (scan of the user's chats)", "/api/v1/chats/search?text=chat%209999"),
        ]
        for _, path in cases:  # warm-up: connection pool, caches
            _time(client, path, headers, 5)
        print(f"\n{args.chats} chats for the measured user (+{args.chats} for another), seeded in {seeded:.1f} s; "
              f"{args.requests} requests per row, in-process (Flask test client) on PostgreSQL\n")
        print(f"| {'call':<55} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} |")
        print(f"|{'-' * 57}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
        for label, path in cases:
            n = args.requests if "search" not in label and "whole" not in label else max(args.requests // 10, 10)
            samples = sorted(_time(client, path, headers, n))
            p99 = percentile(samples, 0.99)
            print(f"| {label:<55} | {statistics.median(samples):7.2f} | {p99:7.2f} | {samples[-1]:7.2f} |")
        big = json.dumps({"chat": _chat_object(0, turns=2500)})
        saves, opens = [], []
        for _ in range(10):
            started = time.perf_counter()
            created = client.post("/api/v1/chats/new", data=big, content_type="application/json", headers=headers)
            saves.append((time.perf_counter() - started) * 1000)
            opens += _time(client, f"/api/v1/chats/{created.get_json()['id']}", headers, 1)
        for label, samples in ((f"save a 5,000-message chat ({len(big) / 1e6:.1f} MB body)", saves),
                               ("open that chat", opens)):
            samples.sort()
            print(f"| {label:<55} | {statistics.median(samples):7.2f} | {samples[-1]:7.2f} | {samples[-1]:7.2f} |")
        user_id = tokens[0]["id"]
        print("\nquery plans:")
        print("  list:", _plan("SELECT id FROM chat WHERE user_id = :u AND archived = false AND folder_id IS NULL "
                               "AND pinned = false ORDER BY updated_at DESC, id DESC LIMIT 60", u=user_id))
        print("  open:", _plan("SELECT * FROM chat WHERE id = :i AND user_id = :u", i=chat_ids[0], u=user_id))


if __name__ == "__main__":
    main()
