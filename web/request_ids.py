"""Every request gets an id (the client's ``X-Request-ID`` when sane): returned in ``X-Request-ID``, put on
every log record of the request and carried by the job messages it sends (``shared.logs``)."""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from shared import logs

HEADER = "X-Request-ID"
log = logging.getLogger("web.requests")


def _begin() -> None:
    g.request_id_token = logs.request_id.set(logs.new_request_id(request.headers.get(HEADER)))
    g.request_started = time.monotonic()


def _answer(response: Response) -> Response:
    """The id goes back to the client, and one line per request to the log (the path without its query,
    which may hold a token)."""
    response.headers[HEADER] = logs.request_id.get() or ""
    log.info("%s %s %s %.0fms", request.method, request.path, response.status_code,
             (time.monotonic() - g.get("request_started", time.monotonic())) * 1000)
    return response


def _end(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)


def install(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_answer)
    app.teardown_request(_end)
