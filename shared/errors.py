"""Errors raised by services; the web layer turns them into ``{"detail": ...}`` responses."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, detail: str | dict, status: int | None = None) -> None:
        """``detail`` is a message, or an object a client acts on (a skill's version conflict)."""
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    status = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotImplementedYet(ServiceError):
    """A part of the API that is planned but not built: 501 with a clear message."""

    status = 501


class UpstreamError(ServiceError):
    """An AI service (Ollama, OpenAI, A1111 ...) failed or could not be reached.

    ``transient`` failures (connection refused, timeout, 429, 5xx) are worth retrying; the others
    (4xx, bad input) fail at once. ``status`` is what our API answers: 502 unreachable/failed,
    504 timed out, or the upstream's own 4xx passed through. ``retry_after``: the seconds the upstream
    asked to wait before trying again (its ``Retry-After``).
    """

    status = 502

    def __init__(self, detail: str, status: int = 502, *, transient: bool = False,
                 upstream_status: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail, status)
        self.transient = transient
        self.upstream_status = upstream_status
        self.retry_after = retry_after
