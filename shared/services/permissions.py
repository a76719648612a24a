"""The permission tree Open WebUI's web app reads; admins edit the defaults."""
from __future__ import annotations

import copy

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import ServiceError, Unauthorized
from shared.models import Group, User
from shared.services import app_config, groups


def _all(value: bool, *names: str) -> dict[str, bool]:
    return {name: value for name in names}


DEFAULT_PERMISSIONS: dict[str, dict[str, bool]] = {
    "workspace": _all(
        False, "models", "knowledge", "prompts", "tools", "skills", "models_import", "models_export",
        "models_hidden", "prompts_import", "prompts_export", "tools_import", "tools_export",
        "skills_import", "skills_export",
    ),
    "sharing": _all(
        False, "models", "public_models", "knowledge", "public_knowledge", "prompts", "public_prompts",
        "tools", "public_tools", "skills", "public_skills", "notes", "public_notes", "folders",
        "public_chats", "open_chats", "public_calendars",
    ),
    "access_grants": _all(True, "allow_users", "allow_groups"),
    "chat": {
        **_all(
            True, "controls", "valves", "system_prompt", "params", "file_upload", "web_upload", "delete",
            "delete_message", "continue_response", "regenerate_response", "rate_response", "edit",
            "share", "export", "import", "stt", "tts", "call", "multiple_models", "temporary",
        ),
        "temporary_enforced": False,
    },
    "features": {
        **_all(False, "direct_tool_servers", "web_search", "image_generation", "code_interpreter",
               "encrypted_channels", "automations", "calendar", "webhooks"),
        **_all(True, "api_keys", "notes", "folders", "channels", "memories"),
    },
    "settings": {"interface": True},
}

CONFIG_DEFAULTS = {"user.permissions": lambda _s: copy.deepcopy(DEFAULT_PERMISSIONS)}


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def default_permissions(session: Session) -> dict:
    return _merge(DEFAULT_PERMISSIONS, app_config.get(session, "user.permissions"))


def set_default_permissions(session: Session, permissions: dict) -> dict:
    app_config.set_many(session, {"user.permissions": _merge(DEFAULT_PERMISSIONS, permissions)})
    return default_permissions(session)


def combine(permissions: dict, group_permissions: dict) -> dict:
    """Open WebUI's ``combine_permissions``: a group's tree over ``permissions``, the most permissive value
    winning (a group can grant what the defaults deny, never take away what they allow)."""
    for key, value in (group_permissions or {}).items():
        if isinstance(value, dict):
            permissions[key] = combine(permissions.get(key) if isinstance(permissions.get(key), dict) else {}, value)
        else:
            permissions[key] = permissions.get(key) or value
    return permissions


def permissions_for(session: Session, user: User) -> dict:
    """What this user may do: the defaults, widened by every group the user is in (subgroups' parents too)."""
    permissions = default_permissions(session)
    group_ids = groups.group_ids_of(session, user.id)
    if group_ids:
        for tree in session.scalars(select(Group.permissions).where(Group.id.in_(group_ids)).order_by(Group.id)):
            permissions = combine(permissions, tree or {})
    return permissions


def has_permission(session: Session, user: User, path: str) -> bool:
    """Admins may do everything; users need ``path`` (``"chat.delete"``) set in their permissions."""
    if user.role == "admin":
        return True
    node = permissions_for(session, user)
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return bool(node) and not isinstance(node, dict)


def require(session: Session, user: User, path: str, error: type[ServiceError] = Unauthorized,
            detail: str = messages.ACCESS_PROHIBITED) -> None:
    """Refuse (Open WebUI's status for the route, 401 unless told) unless ``user`` has ``path``."""
    if not has_permission(session, user, path):
        raise error(detail)
