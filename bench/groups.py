"""Listing latency for a user in many groups, with objects shared to groups, on PostgreSQL.

    .venv/bin/python bench/groups.py [--groups 50] [--objects 1000] [--requests 200]

Creates a scratch database on ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres),
migrates it, makes twice ``--groups`` groups and puts the measured user in half of them, then seeds
``--objects`` knowledge bases and as many custom models (over one upstream model opened to users), each shared
with one random group; the user can read about half. Times ``GET /api/models`` and ``GET /api/v1/knowledge/``
for that user in-process through Flask's test client (application, SQLAlchemy and PostgreSQL; no HTTP server),
and prints p50/p99 and the query plan of the grant lookup. The database is dropped at the end.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid

from harness import isolate, percentile, print_table, scratch_database

DB_NAME = isolate()
BASE_MODEL = "bench-base"


def _seed(admin_id: str, user_id: str, groups: int, objects: int) -> int:
    """Groups, memberships, objects and grants, inserted in bulk; returns how many objects the user reads."""
    from sqlalchemy import insert, text

    from shared.db import get_engine
    from shared.models import AccessGrant, Group, GroupMember, Knowledge, WorkspaceModel

    stamp = int(time.time())
    group_ids = [str(uuid.uuid4()) for _ in range(groups * 2)]
    mine = set(group_ids[:groups])
    rows = {Group: [dict(id=g, user_id=admin_id, name=f"Group {i}", description="", created_at=stamp,
                         updated_at=stamp) for i, g in enumerate(group_ids)],
            GroupMember: [dict(id=str(uuid.uuid4()), group_id=g, user_id=user_id, created_at=stamp,
                               updated_at=stamp) for g in mine],
            Knowledge: [], WorkspaceModel: [], AccessGrant: []}
    readable = 0
    for i in range(objects):
        for cls, resource_type in ((Knowledge, "knowledge"), (WorkspaceModel, "model")):
            object_id = str(uuid.uuid4())
            extra = (dict(description="") if cls is Knowledge
                     else dict(base_model_id=BASE_MODEL, params={}, meta={}, is_active=True))
            rows[cls].append(dict(id=object_id, user_id=admin_id, name=f"{resource_type} {i}", created_at=stamp + i,
                                  updated_at=stamp + i, **extra))
            group = random.choice(group_ids)
            readable += group in mine
            rows[AccessGrant].append(dict(id=str(uuid.uuid4()), resource_type=resource_type, resource_id=object_id,
                                          principal_type="group", principal_id=group, permission="read",
                                          created_at=stamp))
    with get_engine().begin() as conn:
        for cls, values in rows.items():
            conn.execute(insert(cls), values)
        conn.execute(text("ANALYZE"))
    return readable


def _open_base_model(client, admin_headers: dict) -> None:
    """One OpenAI connection (loopback, never called) with one model opened to users, as a refresh stores it."""
    from shared.db import session_scope
    from shared.services.llm import connections, registry

    client.post("/openai/config/update", headers=admin_headers, json={
        "ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": ["http://127.0.0.1:9/v1"],
        "OPENAI_API_KEYS": ["sk-bench"], "OPENAI_API_CONFIGS": {}})
    with session_scope() as session:
        registry.open_to_users(session, [BASE_MODEL])
        openai = connections.connection(session, "openai", 0)
        registry.store(registry.build([registry.openai_entries(openai, [{"id": BASE_MODEL}])], []), [])


def _time(client, path: str, headers: dict, n: int) -> tuple[list[float], int]:
    samples, size = [], 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        size = len(body["data"]) if "data" in body else body["total"]
    return sorted(samples), size


def _plan(user_id: str) -> str:
    from sqlalchemy import select, text

    from shared.db import get_engine, session_scope
    from shared.models import Knowledge, User
    from shared.services import access

    with session_scope() as session:
        stmt = select(Knowledge.id).where(access.readable(Knowledge, session.get(User, user_id))).limit(30)
        sql = str(stmt.compile(get_engine(), compile_kwargs={"literal_binds": True}))
    with get_engine().connect() as conn:
        lines = [row[0] for row in conn.execute(text("EXPLAIN " + sql))]
    return "\n".join(f"  {line}" for line in lines if "Scan" in line or "Index" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with scratch_database(DB_NAME):
        from web.app import create_app

        client = create_app().test_client()
        admin = client.post("/api/v1/auths/signup", json={"name": "Admin", "email": "admin@example.com",
                                                          "password": "bench-pass-1"}).get_json()
        admin_headers = {"Authorization": f"Bearer {admin['token']}"}
        client.post("/api/v1/auths/add", headers=admin_headers, json={
            "name": "User", "email": "user@example.com", "password": "bench-pass-1", "role": "user"})
        user = client.post("/api/v1/auths/signin", json={"email": "user@example.com",
                                                         "password": "bench-pass-1"}).get_json()
        headers = {"Authorization": f"Bearer {user['token']}"}
        _open_base_model(client, admin_headers)
        readable = _seed(admin["id"], user["id"], args.groups, args.objects)

        rows = []
        for label, path in (("GET /api/models", "/api/models"), ("GET /api/v1/knowledge/", "/api/v1/knowledge/")):
            _time(client, path, headers, 5)  # warm-up: connection pool, caches
            samples, size = _time(client, path, headers, args.requests)
            rows.append((label, str(size), f"{statistics.median(samples):.1f}", f"{percentile(samples, 0.99):.1f}"))
        print(f"\nuser in {args.groups} of {args.groups * 2} groups; {args.objects} knowledge bases and "
              f"{args.objects} custom models, each shared with one group (~{readable} readable in all); "
              f"{args.requests} requests per row, in-process on PostgreSQL\n")
        print_table(("call", "listed", "p50 ms", "p99 ms"), rows)
        print("\nplan of the grant lookup (knowledge):\n" + _plan(user["id"]))


if __name__ == "__main__":
    main()
