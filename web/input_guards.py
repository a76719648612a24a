"""The app-wide input guard: what the JSON parser, the database or a worker cannot take is refused as a clear
4xx before any view runs (one place for every route, not a copy per area).

- a NUL character in the path is an unknown id (404), in a query string a 400;
- a JSON body is parsed once, here: nested deeper than ``MAX_JSON_DEPTH`` (deep enough to break the parser,
  or to break every later read of a stored value) or holding an integer beyond 64 bits, it is a 400.
"""
from __future__ import annotations

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.services.nul_text import NUL

MAX_JSON_DEPTH = 64
"""Far beyond what any Open WebUI body nests (a chat, a tool's JSON schema), far below Python's recursion."""
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def json_problem(value: object) -> str | None:
    """Why a parsed JSON value may not be taken (too deep, a number beyond 64 bits), or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
            return "a number is beyond 64 bits"
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"nested deeper than {MAX_JSON_DEPTH} levels"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (as ``ValueError``, Flask's "could not decode") what :func:`json_problem` names."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
        problem = json_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class GuardedRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:  # not a JSON request: Flask's 415
            return super().on_json_loading_failed(e)
        raise BadRequest(f"Invalid JSON body: {e}")


class ArgumentsParser(FlaskParser):
    """webargs reading the body the guard parsed and checked (instead of parsing it a second time)."""

    def _raw_load_json(self, req: Request):
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()


def refuse_bad_input() -> None:
    """The ``before_request`` hook."""
    if NUL in request.path:
        raise NotFound(messages.NOT_FOUND)
    if any(NUL in name or NUL in value for name, value in request.args.items(multi=True)):
        raise BadRequest("Query parameters may not contain NUL characters")
    if request.is_json and request.get_data(cache=True):
        request.get_json()


def install(app: Flask) -> None:
    app.request_class = GuardedRequest
    app.json = GuardedJSONProvider(app)
    app.before_request(refuse_bad_input)
