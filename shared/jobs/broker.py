"""The Dramatiq RedisBroker on the configured Redis (or the embedded one)."""
from __future__ import annotations

from collections.abc import Iterable

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from shared.config import get_settings
from shared.redis_client import redis_url


def namespace() -> str:
    return f"{get_settings().redis_prefix}:dramatiq"


def make_broker(middleware: Iterable[Middleware] = ()) -> RedisBroker:
    return RedisBroker(url=redis_url(), namespace=namespace(), middleware=list(middleware))
