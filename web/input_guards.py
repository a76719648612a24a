"""Refuse NUL characters in the URL before they reach the database (which cannot compare them)."""
from __future__ import annotations

from flask import request

from shared import messages
from shared.errors import BadRequest, NotFound
from shared.services.nul_text import NUL


def refuse_nul_in_url() -> None:
    """A ``before_request`` hook: an id with a NUL is unknown (404), a query value with one is 400."""
    if NUL in request.path:
        raise NotFound(messages.NOT_FOUND)
    if any(NUL in value for value in request.args.values()):
        raise BadRequest("Query parameters may not contain NUL characters")
