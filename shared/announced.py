"""What caches that follow change announcements share: which names were announced when, and whether
the process is subscribed (a cache answers only while it is; see ``shared.services.auth_cache`` and
``shared.watched_values``)."""
from __future__ import annotations

import threading


class AnnouncedCache:
    """A reader notes :attr:`generation` before it reads the source, and keeps what it read only if
    :meth:`may_keep` says its name was not announced since. Subclasses drop their copies of a name in
    :meth:`drop` and of everything in :meth:`drop_all` (both called under :attr:`lock`)."""

    def __init__(self) -> None:
        self.announced: dict[str, int] = {}
        """The generation at which each name was last announced."""
        self.generation = 0
        self.enabled = False
        self.lock = threading.Lock()

    def on_message(self, name: str) -> None:
        """An announcement: ``name`` changed."""
        with self.lock:
            self.generation += 1
            self.announced[name] = self.generation
            self.drop(name)

    def on_subscription(self, active: bool) -> None:
        """On while the process is subscribed to the announcements; switching either way empties it."""
        with self.lock:
            self.generation += 1
            self.enabled = active
            self.announced.clear()
            self.drop_all()

    def may_keep(self, name: str, generation: int) -> bool:
        """Whether a read of ``name`` that started at ``generation`` may be kept (call under the lock)."""
        return self.enabled and self.announced.get(name, -1) <= generation

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def drop_all(self) -> None:
        raise NotImplementedError
