"""Each worker process follows the announcements of the watched values (``shared.watched_values``), so
an LLM job reads the gateway settings' version from memory instead of Redis."""
from __future__ import annotations

from dramatiq.middleware import Middleware

from shared.watched_values import follow_in_thread


class FollowWatchedValues(Middleware):
    def after_process_boot(self, broker):
        follow_in_thread()
