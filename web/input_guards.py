"""The app-wide input guard: what the JSON parser, the database or a worker cannot take is refused as a clear
4xx before any view runs (one place for every route, not a copy per area).

- a NUL character in the path is an unknown id (404), in a query string a 400;
- a JSON body is parsed once, here: nested deeper than ``shared.json_limits.MAX_JSON_DEPTH`` (deep enough to
  break the parser, or every later read of a stored value) or holding an integer beyond 64 bits, it is a 400.
"""
from __future__ import annotations

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.json_limits import TOO_DEEP, json_problem
from shared.services.nul_text import NUL


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (as ``ValueError``, Flask's "could not decode") what :func:`json_problem` names."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(TOO_DEEP) from None
        problem = json_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class InvalidJson(BadRequest):
    """A body that does not parse as JSON (areas with their own error bodies name it: SCIM's ``invalidSyntax``)."""


class GuardedRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:  # not a JSON request: Flask's 415
            return super().on_json_loading_failed(e)
        raise InvalidJson(f"Invalid JSON body: {e}")


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
