"""The admin's auth and UI settings (``/api/v1/auths/admin/config``), by Open WebUI's names."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest
from shared.models import User
from shared.services import accounts, app_config, sessions

FIELDS: dict[str, str] = {
    "SHOW_ADMIN_DETAILS": "ui.show_admin_details",
    "ADMIN_EMAIL": "ui.admin_email",
    "WEBUI_URL": "ui.webui_url",
    "ENABLE_SIGNUP": "ui.enable_signup",
    "ENABLE_LOGIN_FORM": "ui.enable_login_form",
    "ENABLE_API_KEYS": "auth.enable_api_keys",
    "DEFAULT_USER_ROLE": "ui.default_user_role",
    "JWT_EXPIRES_IN": "auth.jwt_expires_in",
    "ENABLE_COMMUNITY_SHARING": "ui.enable_community_sharing",
    "ENABLE_MESSAGE_RATING": "ui.enable_message_rating",
    "ENABLE_FOLDERS": "folders.enable",
    "ENABLE_CHANNELS": "channels.enable",
    "ENABLE_NOTES": "notes.enable",
    "ENABLE_MEMORIES": "memories.enable",
    "ENABLE_USER_WEBHOOKS": "ui.enable_user_webhooks",
    "PENDING_USER_OVERLAY_TITLE": "ui.pending_user_overlay_title",
    "PENDING_USER_OVERLAY_CONTENT": "ui.pending_user_overlay_content",
    "RESPONSE_WATERMARK": "ui.watermark",
}


def read(session: Session) -> dict[str, Any]:
    return app_config.get_fields(session, FIELDS)


def update(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the given fields (others keep their values) after checking the ones with rules."""
    if "DEFAULT_USER_ROLE" in changes:
        accounts.validate_role(changes["DEFAULT_USER_ROLE"])
    if "JWT_EXPIRES_IN" in changes:
        sessions.parse_expires_in(changes["JWT_EXPIRES_IN"])
    app_config.set_fields(session, FIELDS, changes)
    return read(session)


def admin_contact(session: Session) -> dict[str, str | None]:
    """Whom a pending account should ask (Open WebUI's ``/auths/admin/details``): ``ADMIN_EMAIL`` and the name
    of its account, else the oldest admin (Open WebUI names the oldest account, which may no longer be an
    admin); 400 while ``SHOW_ADMIN_DETAILS`` is off."""
    settings = app_config.get_fields(session, {name: FIELDS[name] for name in ("SHOW_ADMIN_DETAILS", "ADMIN_EMAIL")})
    if not settings["SHOW_ADMIN_DETAILS"]:
        raise BadRequest(messages.ACTION_PROHIBITED)
    if email := settings["ADMIN_EMAIL"]:
        admin = accounts.user_by_email(session, email)
        return {"name": admin.name if admin else None, "email": email}
    first = session.scalars(select(User).where(User.role == "admin").order_by(User.created_at, User.id).limit(1)).first()
    return {"name": first.name if first else None, "email": first.email if first else None}
