"""Runtime configuration that admins change through the API (Open WebUI's ``config`` store)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, JSONType, now


class AppConfig(Base):
    __tablename__ = "app_config"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
