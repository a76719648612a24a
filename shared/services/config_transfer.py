"""The whole admin configuration as one JSON document (Open WebUI's ``/api/v1/configs/export`` and ``/import``):
``{key: value}`` of every stored setting. Secrets are stored encrypted with this deployment's key; the export
gives them in clear (it is the admin's) and lists where they are under ``switchyard.secret_paths``, so an
import into another deployment stores them encrypted with its own key."""
from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest
from shared.models import AppConfig
from shared.services import app_config

SECRET_PATHS = "switchyard.secret_paths"
"""The export's list of paths (``[key, index or field, ...]``) of the values that are secrets."""
FERNET_PREFIX = "gAAAAA"
"""How every value :func:`shared.crypto.encrypt` makes begins."""
Path = list[str | int]


def _opened(value: Any, path: Path, secrets: list[Path]) -> Any:
    """``value`` with each encrypted string in it decrypted, its path added to ``secrets``."""
    if isinstance(value, dict):
        return {k: _opened(v, [*path, k], secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_opened(v, [*path, i], secrets) for i, v in enumerate(value)]
    if isinstance(value, str) and value.startswith(FERNET_PREFIX):
        plain = decrypt(value)
        if plain is not None:
            secrets.append(path)
            return plain
    return value


def _stored(session: Session, prefix: str = "") -> dict[str, Any]:
    stmt = select(AppConfig).order_by(AppConfig.key)
    if prefix:
        stmt = stmt.where(AppConfig.key.startswith(prefix, autoescape=True))
    return {row.key: row.value for row in session.scalars(stmt)}


def export_all(session: Session) -> dict[str, Any]:
    secrets: list[Path] = []
    exported = {key: _opened(value, [key], secrets) for key, value in _stored(session).items()}
    return {**exported, SECRET_PATHS: secrets} if secrets else exported


def namespace(session: Session, name: str) -> dict[str, Any]:
    """Every setting under ``<name>.``: its stored value, else its default."""
    from shared.services.config_defaults import DEFAULTS  # gathered from every area, which import this one

    keys = {key for key in DEFAULTS if key.startswith(f"{name}.")} | set(_stored(session, f"{name}."))
    return {key: _opened(value, [key], []) for key, value in sorted(app_config.get_many(session, keys).items())}


def _sealed(config: dict[str, Any], path: Path) -> None:
    """Encrypt the string at ``path`` of ``config`` in place (a path that leads nowhere is refused)."""
    node: Any = config
    for step in path[:-1]:
        node = _step(node, step, path)
    last = path[-1]
    value = _step(node, last, path)
    if not isinstance(value, str):
        raise BadRequest(f"{SECRET_PATHS}: {path} is not a text value")
    node[last] = encrypt(value) if value else value


def _step(node: Any, step: str | int, path: Path) -> Any:
    if isinstance(node, dict) and isinstance(step, str) and step in node:
        return node[step]
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    raise BadRequest(f"{SECRET_PATHS}: {path} names no value of the configuration")


def import_all(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    """Store every setting of ``config`` (an export), its secrets encrypted; the configuration as it is now."""
    values = copy.deepcopy(config)
    paths = values.pop(SECRET_PATHS, [])
    if not isinstance(paths, list) or not all(isinstance(p, list) and p and isinstance(p[0], str) for p in paths):
        raise BadRequest(f"{SECRET_PATHS} must be a list of paths, each starting with a setting's key")
    if any(not key or len(key) > 255 for key in values):
        raise BadRequest("Each setting's key is 1 to 255 characters long")
    for path in paths:
        _sealed(values, path)
    app_config.set_many(session, values)
    return export_all(session)
