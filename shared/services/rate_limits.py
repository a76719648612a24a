"""Request rate limits and the per-user cap on active jobs: their rules, admin-editable values and storage.

Every web process counts in the same Redis (the ``limits`` library's storage under this deployment's key
prefix), so a limit holds for the deployment, not per process. The values live in ``app_config`` like the
other admin settings; each process keeps a copy that a version key in Redis (a watched value) invalidates,
so an admin's change applies everywhere without a restart and costs no database read per request.
"""
from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.config import RATE_LIMITED, get_settings
from shared.errors import BadRequest, TooManyRequests
from shared.models.job import ACTIVE, Job
from shared.redis_client import key, redis_url
from shared.services import app_config

CATEGORIES = RATE_LIMITED
"""What is limited; sign-ins by IP address, the others by API key, else user, else IP address."""
CONFIG_KEYS: dict[str, str] = {
    "ENABLE_RATE_LIMITS": "rate_limits.enable",
    **{f"RATE_LIMIT_{category.upper()}": f"rate_limits.{category}" for category in CATEGORIES},
    "JOB_MAX_ACTIVE_PER_USER": "rate_limits.job_max_active_per_user",
}
"""API field -> config key (``/api/v1/configs/rate_limits``)."""
CONFIG_DEFAULTS = {
    "rate_limits.enable": lambda s: s.rate_limit_enabled,
    **{f"rate_limits.{category}": (lambda s, c=category: s.rate_limits[c]) for category in CATEGORIES},
    "rate_limits.job_max_active_per_user": lambda s: s.job_max_active_per_user,
}


def storage_uri() -> str:
    """Our Redis as the ``limits`` library names it (the embedded server's socket is ``redis+unix://``)."""
    url = redis_url()
    return "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url


def storage_options() -> dict[str, Any]:
    """Counters under this deployment's key prefix, so deployments (and test runs) sharing a server stay apart."""
    return {"key_prefix": key("limits")}


@lru_cache(maxsize=1)
def _window() -> FixedWindowRateLimiter:
    """The failed sign-ins' counter, on the storage flask-limiter uses for the request limits."""
    return FixedWindowRateLimiter(storage_from_string(storage_uri(), **storage_options()))


def _version_key() -> str:
    return key("rate-limits", "version")


_cached = app_config.CachedConfig(_version_key, CONFIG_KEYS.values())


def values() -> dict[str, Any]:
    """The admin's values (config key -> value) without a database read while nothing changed."""
    return _cached.get()


def limit(category: str) -> str:
    """The limit of ``category`` in the ``limits`` syntax (``10/minute;100/hour``); empty when unlimited."""
    current = values()
    return (current[f"rate_limits.{category}"] or "") if current["rate_limits.enable"] else ""


def exceeded_detail(category: str) -> str:
    return f"Too many {category} requests (limit: {limit(category)}). Try again after the time in Retry-After."


def read(session: Session) -> dict[str, Any]:
    return app_config.get_fields(session, CONFIG_KEYS)


def update(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Store the fields sent, each limit checked first; every process applies them at its next request."""
    for field, value in changes.items():
        if field.startswith("RATE_LIMIT_") and value:
            try:
                parse_many(value)
            except ValueError:
                raise BadRequest(f"{field}: {value!r} is not a rate limit such as 10/minute or 5/second;100/day") \
                    from None
    cap = changes.get("JOB_MAX_ACTIVE_PER_USER")
    if cap is not None and cap < 0:
        raise BadRequest("JOB_MAX_ACTIVE_PER_USER: 0 (no cap) or more")
    app_config.set_fields(session, CONFIG_KEYS, changes)
    session.commit()
    _cached.announce()
    return read(session)


# -- failed sign-ins ---------------------------------------------------------------------------------
def _failures() -> RateLimitItem:
    settings = get_settings()
    return RateLimitItemPerSecond(settings.signin_max_failures, settings.signin_failure_window)


def check_failures(name: str, who: str, detail: str) -> None:
    """429 once ``who`` has used up its failures of ``name`` within the window (counted by
    :func:`record_failure`), on the same storage as the request limits."""
    if not _window().test(_failures(), name, who.lower()):
        reset_at = _window().get_window_stats(_failures(), name, who.lower()).reset_time
        raise TooManyRequests(detail, retry_after=max(1, int(reset_at - time.time()) + 1))


def record_failure(name: str, who: str) -> None:
    _window().hit(_failures(), name, who.lower())


def clear_failures(name: str, who: str) -> None:
    _window().clear(_failures(), name, who.lower())


# -- active jobs -------------------------------------------------------------------------------------
def check_active_jobs(session: Session, owner_id: str) -> None:
    """429 when the user already has the admin's cap of queued and running jobs, so one user cannot fill a
    queue. Counted with the ``owner_id`` index; two requests at the same instant may both pass the last slot."""
    cap = values()["rate_limits.job_max_active_per_user"]
    if not cap:
        return
    active = session.scalar(select(func.count()).select_from(Job).where(
        Job.owner_id == owner_id, Job.status.in_(ACTIVE), Job.parent_id.is_(None)))
    if active >= cap:
        raise TooManyRequests(f"You have {active} jobs queued or running, the most one user may have at once "
                              f"({cap}). Wait for one to finish, or cancel one.", retry_after=5)
