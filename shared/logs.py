"""Log records of every process: the request id they belong to, JSON lines on request, no secrets.

The web takes a request's id from ``X-Request-ID`` (or makes one), the job messages it sends carry it, and
the worker running such a job logs under it, so one request can be followed from the web log into every
worker's (``LOG_FORMAT=json`` gives one JSON object a line, with a ``request_id`` field).
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request this thread (greenlet) is serving, or whose job it is running."""

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

TOKENS = re.compile(r"\bsk-[A-Za-z0-9_-]+|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
"""An API key (ours and OpenAI's start ``sk-``) or a JWT."""
NAMED = re.compile(r"((?:password|passwd|api_key|apikey|secret|token|authorization)[\"']?\s*[:=]\s*[\"']?"
                   r"(?:bearer\s+)?)[^\s\"',;&}]+", re.IGNORECASE)
"""A value named like a secret: ``password=...``, ``"token": "..."``, ``Authorization: Bearer ...``."""


def new_request_id(offered: str | None) -> str:
    """The client's id when it is a sane token (letters, digits, ``._:-``, at most 128), else a new one."""
    return offered if offered and _SANE_ID.match(offered) else uuid.uuid4().hex


def redact(text: str) -> str:
    """``text`` with anything that looks like a key, a token or a password replaced by ``***``."""
    return NAMED.sub(r"\1***", TOKENS.sub("***", text))


class Context(logging.Filter):
    """Adds ``request_id`` to every record the handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class Text(logging.Formatter):
    """A plain line with the request id; secrets masked in the whole line, trace included (a safety net:
    code must not log them in the first place)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(process)d %(threadName)s] %(name)s [%(request_id)s]: "
                         "%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, process, and the trace if any; secrets
    masked as in :class:`Text`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"), "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str) -> None:
    """Give the root logger's handlers (a default one if it has none, e.g. under gunicorn; dramatiq's
    otherwise) the context filter and the chosen format: ``json`` or text with the request id."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, Context) for f in handler.filters):
            handler.addFilter(Context())
        handler.setFormatter(JsonLines() if log_format == "json" else Text())
