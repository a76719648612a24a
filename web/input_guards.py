"""Input the database or the JSON parser cannot take, answered as a clear 4xx instead of a 500."""
from __future__ import annotations

from flask import request

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.services.nul_text import NUL
from web.blueprint import Blueprint
from web.errors import json_error


def refuse_nul_in_url() -> None:
    """A ``before_request`` hook: an id with a NUL is unknown (404), a query value with one is 400."""
    if NUL in request.path:
        raise NotFound(messages.NOT_FOUND)
    if any(NUL in value for value in request.args.values()):
        raise BadRequest("Query parameters may not contain NUL characters")


def too_deep(_error: RecursionError):
    return json_error(400, "Invalid JSON body: nested too deeply")


def guard(blp: Blueprint) -> Blueprint:
    """Install both guards on a blueprint."""
    blp.before_request(refuse_nul_in_url)
    blp.register_error_handler(RecursionError, too_deep)
    return blp
