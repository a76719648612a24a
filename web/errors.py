"""Every error leaves as ``{"detail": "..."}`` with a fitting status: never an HTML page or a trace."""
from __future__ import annotations

import logging

import redis
from flask import Flask, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from shared.errors import ServiceError, TooManyRequests
from web import unbuilt

log = logging.getLogger(__name__)

_TITLES = {404: "Not Found", 405: "Method Not Allowed"}


def _flatten(messages, path: str = "") -> list[str]:
    """webargs/marshmallow messages ({"json": {"email": ["Missing data ..."]}}) as "email: Missing data ..."."""
    if isinstance(messages, dict):
        out: list[str] = []
        for field, value in messages.items():
            if field in {"json", "query", "form", "files", "headers", "cookies", "view_args"} and not path:
                out += _flatten(value, "")
            else:
                out += _flatten(value, f"{path}.{field}" if path else str(field))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        text = " ".join(m.rstrip(".") for m in messages)
        return [f"{'body' if path == '_schema' else path}: {text}" if path else text]
    if isinstance(messages, list):
        return [line for item in messages for line in _flatten(item, path)]
    return [f"{path}: {messages}" if path else str(messages)]


def detail_for(error: HTTPException) -> str:
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages:
        text = "; ".join(_flatten(messages))
        return f"Invalid request: {text}" if error.code == 422 else text
    if error.code == 413:
        return "Request body too large."
    return _TITLES.get(error.code or 500) or error.description or error.name


def json_error(status: int, detail: str | dict, headers: dict | None = None):
    response = jsonify(detail=detail)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException):
    if error.code in (404, 405) and request.url_rule is None:
        missing = unbuilt.detail(request.method, request.path)
        if missing:
            return json_error(501, missing)
    headers = {}
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return json_error(error.code or 500, detail_for(error), headers)


REFUSED_BY_DATABASE = (DataError, IntegrityError, OverflowError)
"""What the database raises for a value it cannot take: the caller's input, answered as 400."""


def refused_by_database(error: Exception):
    """The one mapping of the database's refusals of bad input (NUL characters, numbers out of range, a
    reference to nothing or a second copy of something unique) for every area, at a flush or at the commit."""
    text = str(getattr(error, "orig", None) or error)
    if "NUL" in text or "\\u0000" in text:
        detail = "Text may not contain NUL characters."
    elif "out of range" in text or isinstance(error, OverflowError):
        detail = "A number is out of range."
    elif isinstance(error, IntegrityError):
        detail = "Invalid input: it conflicts with stored data."
    else:
        detail = "Invalid input: the database cannot store this value."
    log.info("input refused by the database: %s", text.splitlines()[0] if text else type(error).__name__)
    return json_error(400, detail)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else None
        return json_error(error.status, error.detail, headers)

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def _redis_down(error: Exception):
        log.warning("Redis unavailable: %s", error)
        return json_error(503, "Service temporarily unavailable: the queue (Redis) cannot be reached.",
                          {"Retry-After": "1"})

    for refusal in REFUSED_BY_DATABASE:
        app.register_error_handler(refusal, refused_by_database)

    @app.errorhandler(OperationalError)
    def _db_down(error: Exception):
        log.warning("database unavailable: %s", error)
        return json_error(503, "Service temporarily unavailable: the database cannot be reached.",
                          {"Retry-After": "1"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return handle_http_exception(error)
        log.exception("unhandled error")
        return json_error(500, "Internal Server Error")
