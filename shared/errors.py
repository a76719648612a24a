"""Errors raised by services; the web layer turns them into ``{"detail": ...}`` responses."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, detail: str, status: int | None = None) -> None:
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
