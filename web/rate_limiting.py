"""flask-limiter on our Redis: the request limits of ``shared.services.rate_limits`` applied to routes.

A limited route answers 429 ``{"detail": ...}`` with ``Retry-After``; every answer of a limited route carries
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds since the epoch).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, Response, g, request
from flask_limiter import HeaderNames, Limiter

from shared.services import api_keys, rate_limits
from web.caller import optional_user, presented_credential


def caller_key() -> str:
    """Whose requests are counted together: one API key (by its digest: no key is stored in Redis), else the
    signed-in user, else the client's address."""
    credential = presented_credential()
    if credential and credential.startswith(api_keys.PREFIX):
        return "key:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
    user = optional_user()
    return f"user:{user.id}" if user is not None else f"ip:{request.remote_addr}"


def address_key() -> str:
    return f"ip:{request.remote_addr}"


limiter = Limiter(
    key_func=caller_key,
    headers_enabled=True,
    header_name_mapping={HeaderNames.LIMIT: "RateLimit-Limit", HeaderNames.REMAINING: "RateLimit-Remaining",
                         HeaderNames.RESET: "RateLimit-Reset", HeaderNames.RETRY_AFTER: "Retry-After"},
    strategy="fixed-window",
)


def limited(category: str, by_address: bool = False) -> Callable:
    """Count the route's calls in ``category``'s limit (shared by every route of the category), read at
    each request so an admin's change applies at once."""
    return limiter.shared_limit(
        lambda: rate_limits.limit(category), scope=category,
        key_func=address_key if by_address else caller_key,
        exempt_when=lambda: not rate_limits.limit(category),
        error_message=lambda: rate_limits.exceeded_detail(category),
    )


def _remember_retry_after(response: Response) -> Response:
    g.own_retry_after = response.headers.get("Retry-After")
    return response


def _restore_retry_after(response: Response) -> Response:
    """flask-limiter writes its window's reset as ``Retry-After`` on every answer of a limited route (the later
    of it and the answer's own): keep it on the limiter's own refusals only, so an upstream's 429 says the wait
    the upstream asked for and a success says none."""
    own = g.pop("own_retry_after", None)
    if own is not None:
        response.headers["Retry-After"] = own
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    app.config.update(RATELIMIT_STORAGE_URI=rate_limits.storage_uri(),
                      RATELIMIT_STORAGE_OPTIONS=rate_limits.storage_options())
    # after-request hooks run last registered first: the answer's own Retry-After is read before the limiter's
    # hook and put back after it
    app.after_request(_restore_retry_after)
    limiter.init_app(app)
    app.after_request(_remember_retry_after)
