"""Admin-editable configuration: stored values in ``app_config`` over defaults from the environment."""
from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings, get_settings
from shared.crypto import decrypt, encrypt
from shared.db import session_scope
from shared.models import AppConfig
from shared.watched_values import watched, write

CORE_DEFAULTS: dict[str, Callable[[Settings], Any]] = {
    "ui.enable_signup": lambda s: s.enable_signup,
    "ui.enable_login_form": lambda s: True,
    "ui.enable_password_change_form": lambda s: True,
    "ui.default_user_role": lambda s: s.default_user_role,
    "ui.enable_community_sharing": lambda s: True,
    "ui.enable_message_rating": lambda s: True,
    "ui.enable_user_webhooks": lambda s: False,
    "ui.default_models": lambda s: "",
    "ui.default_pinned_models": lambda s: "",
    "ui.prompt_suggestions": lambda s: [],
    "ui.pending_user_overlay_title": lambda s: "",
    "ui.pending_user_overlay_content": lambda s: "",
    "ui.watermark": lambda s: "",
    "ui.show_admin_details": lambda s: True,
    "ui.admin_email": lambda s: None,
    "ui.webui_url": lambda s: "",
    "auth.enable_api_keys": lambda s: s.enable_api_keys,
    "auth.jwt_expires_in": lambda s: s.jwt_expires_in,
    "folders.enable": lambda s: True,
    "channels.enable": lambda s: False,
    "notes.enable": lambda s: True,
    "memories.enable": lambda s: True,
    "task.title.enable": lambda s: True,
    "task.tags.enable": lambda s: True,
    "task.follow_up.enable": lambda s: True,
    "task.autocomplete.enable": lambda s: False,
}


def default(key: str) -> Any:
    # The areas that declare defaults use this module; their tables are gathered once they are all loaded.
    from shared.services.config_defaults import DEFAULTS

    factory = DEFAULTS.get(key)
    return copy.deepcopy(factory(get_settings())) if factory else None


def get_many(session: Session, keys: Iterable[str]) -> dict[str, Any]:
    keys = list(keys)
    stored = {
        row.key: row.value for row in session.scalars(select(AppConfig).where(AppConfig.key.in_(keys)))
    }
    return {k: stored[k] if k in stored else default(k) for k in keys}


def get_fields(session: Session, keys: Mapping[str, str], secrets: Collection[str] = ()) -> dict[str, Any]:
    """Settings under their API field names (``keys``: field -> config key); the ``secrets`` among them, stored
    encrypted, read back in clear."""
    values = get_many(session, keys.values())
    return {field: (decrypt(values[key]) or "") if field in secrets and values[key] else values[key]
            for field, key in keys.items()}


def set_fields(session: Session, keys: Mapping[str, str], form: Mapping[str, Any],
               secrets: Collection[str] = ()) -> None:
    """Store the fields of ``form`` that ``keys`` names, the ``secrets`` among them encrypted; others are ignored."""
    set_many(session, {keys[field]: encrypt(value) if field in secrets and value else value
                       for field, value in form.items() if field in keys})


def get(session: Session, key: str) -> Any:
    return get_many(session, [key])[key]


def set_many(session: Session, values: dict[str, Any]) -> None:
    for key, value in values.items():
        row = session.get(AppConfig, key)
        if row is None:
            session.add(AppConfig(key=key, value=value))
        else:
            row.value = value
    session.flush()


class CachedConfig:
    """Settings read on a hot path (every chat request, every limited request): one copy per process, read
    again when their version key in Redis changes (:meth:`announce`) or after ``max_age`` seconds, a bound on
    a value written around an announcement. The version is a watched value, so while nothing changed a read
    costs neither a database nor a Redis round trip."""

    def __init__(self, version_key: Callable[[], str], keys: Iterable[str], max_age: float = 30.0) -> None:
        self.version_key, self.keys, self.max_age = version_key, tuple(keys), max_age
        self.version: str | None = None
        self.loaded = 0.0
        self.values: dict[str, Any] | None = None

    def get(self, session: Session | None = None) -> dict[str, Any]:
        """The values, read through ``session`` (or a session of its own) when they must be read again."""
        version = watched.get(self.version_key())
        if self.values is None or self.version != version or time.monotonic() - self.loaded > self.max_age:
            if session is None:
                with session_scope() as own:
                    values = get_many(own, self.keys)
            else:
                values = get_many(session, self.keys)
            self.version, self.loaded, self.values = version, time.monotonic(), values
        return self.values

    def announce(self) -> None:
        """Tell every process's copy to read again; call it once the change is committed."""
        version = uuid.uuid4().hex
        write(self.version_key(), lambda pipe: pipe.set(self.version_key(), version))
