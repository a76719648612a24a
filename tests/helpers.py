"""Fixtures and helpers shared by the test modules."""
from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event


@pytest.fixture(scope="session")
def app():
    from web.app import create_app

    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


def signup(client, email: str = "admin@example.com", password: str = "s3cret-pass", name: str = "Admin") -> dict:
    response = client.post("/api/v1/auths/signup", json={"name": name, "email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(client) -> dict:
    """The first account (admin), signed in; its JSON includes ``token``."""
    return signup(client)


@pytest.fixture
def make_user(client, admin):
    """Create a verified ``user`` account through the admin API and sign it in."""

    def make(email: str = "user@example.com", password: str = "user-pass-1", role: str = "user") -> dict:
        response = client.post(
            "/api/v1/auths/add",
            json={"name": email.split("@")[0], "email": email, "password": password, "role": role},
            headers=bearer(admin["token"]),
        )
        assert response.status_code == 200, response.get_json()
        signed = client.post("/api/v1/auths/signin", json={"email": email, "password": password})
        assert signed.status_code == 200, signed.get_json()
        return signed.get_json()

    return make


@contextmanager
def statements_on(engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def wait_for(predicate: Callable[[], object], what: str, seconds: float = 5.0) -> None:
    """Poll ``predicate`` until it is true; fail with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


WEBUI_INDEX = b"<!doctype html><title>Open WebUI test bundle</title>"


def make_wheel(path, extra: dict[str, bytes] | None = None):
    """A stand-in open-webui wheel at ``path``: a tiny web app (and backend code that must not be extracted)."""
    files = {
        "open_webui/frontend/index.html": WEBUI_INDEX,
        "open_webui/frontend/_app/immutable/entry/app.abc123.js": b"console.log('app')",
        "open_webui/frontend/_app/version.json": b'{"version": "x"}',
        "open_webui/frontend/static/favicon.png": b"\x89PNG fake",
        "open_webui/frontend/static/user.png": b"\x89PNG user",
        "open_webui/main.py": b"print('backend code must not be extracted')",
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path
