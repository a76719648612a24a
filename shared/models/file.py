"""Uploaded files (Open WebUI's ``file`` table): the stored object, its extracted text and processing status."""
from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class File(Base):
    __tablename__ = "file"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    hash: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    """The storage key of the original bytes (see ``shared.storage``)."""
    data: Mapped[dict | None]
    """``{status: pending|processing|embedding|completed|failed|not_indexable, error, content, job_id}``."""
    meta: Mapped[dict | None]
    """``{name, content_type, size, data: <client metadata>, collection_name}``."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
