"""Failed sign-ins counted per email in Redis; too many within the window answer 429."""
from __future__ import annotations

from shared import messages
from shared.config import get_settings
from shared.errors import TooManyRequests
from shared.redis_client import get_redis, key


def _key(email: str) -> str:
    return key("signin-failures", email.lower())


def check(email: str) -> None:
    settings = get_settings()
    r = get_redis()
    failures = int(r.get(_key(email)) or 0)
    if failures >= settings.signin_max_failures:
        retry_after = max(1, r.ttl(_key(email)))
        raise TooManyRequests(messages.MALICIOUS, retry_after=retry_after)


def record_failure(email: str) -> None:
    # The window starts with the first failure: SET NX EX, then INCR (which keeps the TTL); Redis 6.2,
    # the embedded server's version, has no EXPIRE NX.
    pipe = get_redis().pipeline()
    pipe.set(_key(email), 0, ex=get_settings().signin_failure_window, nx=True)
    pipe.incr(_key(email))
    pipe.execute()


def reset(email: str) -> None:
    get_redis().delete(_key(email))
