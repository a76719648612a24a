"""Notes (Open WebUI's ``note`` and ``pinned_note``): markdown documents a user writes, shares by access grants
and pins for themselves."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.access_grant import Shareable
from shared.models.base import Base, new_id, now_ns


class Note(Shareable, Base):
    __tablename__ = "note"
    resource_type = "note"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    data: Mapped[dict | None]
    """``{"content": {"md", "html", "json"}, "files": [...], "versions": [...]}`` as the editor sends it."""
    meta: Mapped[dict | None]
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ns)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ns)

    __table_args__ = (Index("ix_note_updated_at", "updated_at"),)


class PinnedNote(Base):
    """One user's pin on a note (each reader pins for themselves)."""

    __tablename__ = "pinned_note"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64))
    note_id: Mapped[str] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ns)

    __table_args__ = (Index("ix_pinned_note_user_id_note_id", "user_id", "note_id", unique=True),)
