"""Checked sessions kept in each web process, dropped the moment their user changes anywhere.

Checking a JWT costs a signature check and a database query (the user, and whether the token was
revoked) on every request. A process that follows the ``auth:changed`` channel keeps the outcome per
token instead. Every committed change to a user row or a revocation (sign-out) made through the ORM, in
any process, announces the user's id on that channel, and each process drops that user's entries:

- the announcement goes out once when the change is flushed (a failure to announce fails the
  transaction, so a change is never committed unannounced) and once more after the commit (so that a
  request which re-read the old row between the two cannot keep it);
- a request remembers :attr:`AuthCache.generation` before it reads the database and stores its
  outcome only if its user was not announced since;
- the cache only answers while its process is subscribed: when the subscription is lost it is emptied
  and stays off until Redis confirms the subscription again;
- entries also end with their token and after ``MAX_AGE`` seconds, a bound on anything missed.

Bulk ``UPDATE``s outside the ORM are not announced; none touches what a session check reads
(``presence`` writes ``last_active_at`` only).
"""
from __future__ import annotations

import copy
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

from shared.announced import AnnouncedCache
from shared.models import RevokedToken, User
from shared.redis_client import get_redis, key

MAX_AGE = 60.0
MAX_ENTRIES = 10_000
COLUMNS = tuple(column.key for column in User.__table__.columns)


def channel() -> str:
    return key("auth", "changed")


_local_caches: weakref.WeakSet[AuthCache] = weakref.WeakSet()
"""This process's caches, dropped at once by the changes it announces itself."""


@dataclass(frozen=True)
class Entry:
    claims: dict
    values: dict[str, Any]
    expires: float
    """``time.time()`` after which the entry is void (the token's own expiry or ``MAX_AGE``)."""


class AuthCache(AnnouncedCache):
    """Checked tokens; the announced names are user ids."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: OrderedDict[str, Entry] = OrderedDict()
        self.by_user: dict[str, set[str]] = {}
        _local_caches.add(self)

    def lookup(self, token: str) -> tuple[dict, dict[str, Any]] | None:
        """The claims and a private copy of the user's columns checked for ``token``, if still valid."""
        with self.lock:
            entry = self.entries.get(token) if self.enabled else None
            if entry is None:
                return None
            if entry.expires <= time.time():
                self._remove(token)
                return None
            self.entries.move_to_end(token)
        return entry.claims, copy.deepcopy(entry.values)

    def store(self, token: str, claims: dict, user: User, generation: int) -> None:
        """Keep the outcome of a check that started at ``generation`` (unless the user changed since)."""
        exp = claims.get("exp")
        expires = min(time.time() + MAX_AGE, float(exp) if exp else float("inf"))
        values = copy.deepcopy({name: getattr(user, name) for name in COLUMNS})
        with self.lock:
            if not self.may_keep(user.id, generation):
                return
            self._remove(token)
            self.entries[token] = Entry(claims, values, expires)
            self.by_user.setdefault(user.id, set()).add(token)
            while len(self.entries) > MAX_ENTRIES:
                self._remove(next(iter(self.entries)))

    def drop(self, name: str) -> None:
        for token in self.by_user.pop(name, set()):
            self.entries.pop(token, None)

    def drop_all(self) -> None:
        self.entries.clear()
        self.by_user.clear()

    def _remove(self, token: str) -> None:
        entry = self.entries.pop(token, None)
        if entry is not None:
            tokens = self.by_user.get(entry.values["id"])
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self.by_user[entry.values["id"]]


def detached_user(values: dict[str, Any]) -> User:
    """A ``User`` carrying ``values`` as if loaded, to be merged into a session without a query."""
    user = User(**values)
    make_transient_to_detached(user)
    return user


# -- announcing ---------------------------------------------------------------------------------
def _changed_users(session: Session) -> set[str]:
    changed = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User) and obj.id:
            changed.add(obj.id)
        elif isinstance(obj, RevokedToken) and obj.user_id:
            changed.add(obj.user_id)
    return changed


def announce(user_ids: set[str]) -> None:
    """Publish the changed users to every process, and drop them here at once: this process's own next
    request must not wait for its subscription to hear the announcement."""
    pipe = get_redis().pipeline(transaction=False)
    for user_id in sorted(user_ids):
        pipe.publish(channel(), user_id)
    pipe.execute()
    for cache in list(_local_caches):
        for user_id in user_ids:
            cache.on_message(user_id)


def install_listeners(factory: sessionmaker) -> None:
    """Announce the users the factory's sessions change (see :func:`announce`)."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)


def _before_flush(session: Session, _context, _instances) -> None:
    changed = _changed_users(session)
    if changed:
        announce(changed)  # raises when Redis is unreachable: the change is not committed
        session.info.setdefault("auth_changed", set()).update(changed)


def _after_commit(session: Session) -> None:
    changed = session.info.pop("auth_changed", None)
    if changed:
        try:
            announce(changed)
        except Exception:  # noqa: BLE001 - committed already; the announcement at flush time went out
            pass


def _after_rollback(session: Session) -> None:
    session.info.pop("auth_changed", None)
