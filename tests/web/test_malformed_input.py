"""Malformed input on every route of the URL map answers a JSON ``{"detail"}`` 4xx, never a 5xx.

The inputs are the ones that broke routes before: NUL characters in path ids, query values and JSON text;
integers beyond 64 bits in path ids, query values and JSON numbers; JSON nested far deeper than anyone
needs (deep enough to break the parser, and shallow enough to parse but not to be stored). Each goes to
every route, as an admin and anonymously, with a worker running (routes that wait for a job get their
answer) and the connections pointed at the fake Ollama and OpenAI before each route (the admin's sweep
rewrites them too). No route is skipped. Errors are ``{"detail"}``, or OpenAI's ``{"error": {"message"}}`` on the
OpenAI-compatible ``/openai/...`` routes.
"""
from __future__ import annotations

import json

import pytest
from marshmallow import fields

from tests.fakes.fixtures import FAKE_OPENAI_KEY, ollama_server, openai_server  # noqa: F401
from tests.helpers import bearer, signup
from tests.jobs.worker import running_worker
from tests.url_map import Route, routes

NUL_TEXT = "x\x00y"
HUGE = 2 ** 70
UNPARSEABLY_DEEP = "[" * 100_000 + "]" * 100_000
PARSEABLY_DEEP = '{"ui": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}"
GENERIC_BODY_FIELDS = ("id", "name", "title", "content", "email", "password", "model", "query", "data", "meta",
                       "chat", "messages", "file_id", "collection_name", "page", "limit", "skip", "offset", "ui")
"""Sent to routes that read their body without a schema."""
PAGING_QUERY = ("page", "limit", "skip", "offset", "after", "before")


def _typed(field: fields.Field, text: object, number: object) -> object:
    if isinstance(field, (fields.Integer, fields.Float, fields.Decimal)):
        return number
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Dict):
        return {"k": text, "n": number}
    if isinstance(field, fields.List):
        return [text, number]
    if isinstance(field, fields.Nested):
        return {"id": text, "n": number}
    if isinstance(field, fields.Raw) and not isinstance(field, fields.String):
        return {"k": text, "n": number}
    return text


def _body(route: Route, text: object, number: object) -> dict:
    if route.body_fields:
        return {name: _typed(field, text, number) for name, field in route.body_fields.items()}
    return {name: text if name not in PAGING_QUERY else number for name in GENERIC_BODY_FIELDS}


def _query(route: Route, text: str, number: str) -> dict:
    query = {name: number for name in PAGING_QUERY}
    for name, field in route.query_fields.items():
        if isinstance(field, (fields.Integer, fields.Float, fields.Decimal)):
            query[name] = number
        elif not isinstance(field, fields.Boolean):
            query[name] = text
    return query


def _path(route: Route, bad: str) -> str | None:
    """The route's path with every argument bad (``nul`` or ``huge``), or None when the rule has no argument
    that can carry it."""
    if not route.arguments:
        return None
    if bad == "huge":
        return route.path(lambda arg: HUGE if route.is_integer(arg) else str(HUGE))
    if any(not route.is_integer(arg) for arg in route.arguments):
        return route.path(lambda arg: 1 if route.is_integer(arg) else NUL_TEXT)
    return None


def _plain(route: Route) -> str:
    return route.path(lambda arg: 1 if route.is_integer(arg) else "some-id")


def _requests(route: Route):
    """(label, path, query, raw body) for every malformed input this route gets."""
    plain = _plain(route)
    for bad in ("nul", "huge"):
        path = _path(route, bad)
        if path is not None:
            yield f"path {bad}", path, None, None
    yield "query nul", plain, _query(route, NUL_TEXT, "1"), None
    yield "query huge", plain, _query(route, "x", str(HUGE)), None
    yield "query -huge", plain, _query(route, "x", str(-HUGE)), None
    if route.method != "GET":
        yield "body nul", plain, None, json.dumps(_body(route, NUL_TEXT, 1))
        yield "body huge", plain, None, json.dumps(_body(route, "x", HUGE))
        yield "body -huge", plain, None, json.dumps(_body(route, "x", -HUGE))
        yield "body unparseably deep", plain, None, UNPARSEABLY_DEEP
        yield "body deep", plain, None, PARSEABLY_DEEP


def _signs_out(route: Route) -> bool:
    return route.rule.endpoint == "auths.signout"


def _ordered(app) -> list[Route]:
    """Sign-out last: it ends the session the admin's sweep uses."""
    return sorted(routes(app), key=_signs_out)


def _error_message(path: str, payload: object) -> object:
    if not isinstance(payload, dict):
        return None
    if path.startswith("/openai/") and isinstance(payload.get("error"), dict):
        return payload["error"].get("message")
    return payload.get("detail")


def _connect(client, headers: dict, ollama, openai) -> None:
    """Point the connections at the fakes (as an operator would)."""
    for path, body in (
        ("/ollama/config/update", {"ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": [ollama.url]}),
        ("/openai/config/update", {"ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": [f"{openai.url}/v1"],
                                   "OPENAI_API_KEYS": [FAKE_OPENAI_KEY]}),
    ):
        assert client.post(path, headers=headers, json=body).status_code == 200


def _sweep(client, app, headers: dict, connect) -> list[str]:
    failures = []
    for route in _ordered(app):
        if not _signs_out(route):
            connect()
        for label, path, query, body in _requests(route):
            response = client.open(path, method=route.method, query_string=query, data=body,
                                   content_type="application/json" if body is not None else None,
                                   headers=headers)
            problem = None
            if headers and response.status_code == 401 and not _signs_out(route):
                problem = "refused the admin: the sweep lost its session and tested nothing"
            elif response.status_code >= 500:
                problem = f"answered {response.status_code}"
            elif response.status_code >= 400:
                if not isinstance(_error_message(path, response.get_json(silent=True)), str):
                    problem = f"answered {response.status_code} without a JSON detail"
            if problem:
                failures.append(f"{route.name} [{label}] {problem}: {response.get_data(as_text=True)[:160]!r}")
    return failures


@pytest.fixture(scope="module")
def worker(database):
    with running_worker(threads=4, modules=()) as process:
        yield process


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_route_refuses_malformed_input_with_a_json_4xx(app, worker, ollama_server, openai_server, who):
    client = app.test_client(use_cookies=False)  # the bearer token (or none) only: no session cookie
    admin = bearer(signup(client)["token"])
    failures = _sweep(client, app, admin if who == "admin" else {},
                      lambda: _connect(client, admin, ollama_server, openai_server))
    assert not failures, f"{len(failures)} malformed requests failed:\n" + "\n".join(failures)
