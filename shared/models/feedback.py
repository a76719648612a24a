"""A rating of a reply (Open WebUI's ``feedback`` table): the thumbs under a reply, and arena votes."""
from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    type: Mapped[str] = mapped_column(Text)
    data: Mapped[dict | None]
    """``rating`` (1 or -1), ``model_id``, ``sibling_model_ids``, ``reason``, ``comment``, ``tags`` ..."""
    meta: Mapped[dict | None]
    """``chat_id``, ``message_id``, ``arena``, ``tags`` ..."""
    snapshot: Mapped[dict | None]
    """The chat as it was when rated."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
