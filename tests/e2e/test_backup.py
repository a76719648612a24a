"""``switchyard backup`` while the service runs, ``switchyard restore`` into an empty database and data
directory: every chat, file (its bytes) and knowledge base is there, served by a web process on the copy."""
from __future__ import annotations

import io
import os
import subprocess
import threading
import uuid

import psycopg
import pytest
import requests

from shared.config import get_settings
from tests.conftest import PG_ADMIN_URL, SQLITE
from tests.e2e.processes import BIN, ROOT, web_server
from tests.helpers import bearer

FILE_BYTES = bytes(range(256)) * 40


def switchyard(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "switchyard"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def empty_target(tmp_path):
    """The environment of a new deployment: an empty data directory and (PostgreSQL) an empty database, on
    this run's Redis server under a prefix of its own."""
    env = {**os.environ, "DATA_DIR": str(tmp_path / "restored"), "REDIS_PREFIX": f"restored-{uuid.uuid4().hex[:8]}"}
    if SQLITE:
        env["REDIS_URL"] = f"unix://{get_settings().embedded_redis_socket}"
        yield env
        return
    name = f"sy_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    try:
        yield env
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_taken_while_running_restores_into_an_empty_deployment(tmp_path, empty_target):
    archive = tmp_path / "backup.tar.gz"
    with web_server() as url:
        admin = requests.post(f"{url}/api/v1/auths/signup", timeout=30,
                              json={"name": "Admin", "email": "admin@example.com", "password": "s3cret-pass"}).json()
        auth = bearer(admin["token"])
        uploaded = requests.post(f"{url}/api/v1/files/?process=false", headers=auth, timeout=30,
                                 files={"file": ("data.bin", io.BytesIO(FILE_BYTES))}).json()
        knowledge = requests.post(f"{url}/api/v1/knowledge/create", headers=auth, timeout=30,
                                  json={"name": "Manuals", "description": "kept"}).json()
        before = [requests.post(f"{url}/api/v1/chats/new", headers=auth, timeout=30,
                                json={"chat": {"title": f"chat {i}"}}).json()["id"] for i in range(5)]
        stop, during = threading.Event(), []

        def keep_writing() -> None:  # the service is in use while the backup runs
            while not stop.is_set():
                during.append(requests.post(f"{url}/api/v1/chats/new", headers=auth, timeout=30,
                                            json={"chat": {"title": "during"}}).status_code)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            done = switchyard(dict(os.environ), "backup", str(archive))
        finally:
            stop.set()
            writer.join()
        assert done.returncode == 0, done.stderr
        assert " files backed up into " in done.stdout and set(during) == {200}

    refused = switchyard(dict(os.environ), "restore", str(archive))
    assert refused.returncode == 1 and "not empty" in refused.stderr  # never over a live deployment

    restored = switchyard(empty_target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    with web_server(empty_target) as url:
        auth = bearer(admin["token"])  # the same secret key: the old session is still valid
        for index, chat_id in enumerate(before):
            chat = requests.get(f"{url}/api/v1/chats/{chat_id}", headers=auth, timeout=30).json()
            assert chat["chat"]["title"] == f"chat {index}"
        content = requests.get(f"{url}/api/v1/files/{uploaded['id']}/content", headers=auth, timeout=30)
        assert content.status_code == 200 and content.content == FILE_BYTES
        bases = requests.get(f"{url}/api/v1/knowledge/", headers=auth, timeout=30).json()
        assert knowledge["id"] in {base["id"] for base in bases["items"]}
