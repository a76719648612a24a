"""The banners an admin shows at the top of the web app (``ui.banners`` in the admin config)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from shared.services import app_config

KEY = "ui.banners"
CONFIG_DEFAULTS = {KEY: lambda _settings: []}


def get_banners(session: Session) -> list[dict]:
    return app_config.get(session, KEY) or []


def set_banners(session: Session, banners: list[dict]) -> list[dict]:
    app_config.set_many(session, {KEY: banners})
    return get_banners(session)
