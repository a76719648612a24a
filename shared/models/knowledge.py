"""Knowledge bases: named sets of files that chats can retrieve from, shared through access grants."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class Knowledge(Base):
    __tablename__ = "knowledge"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict | None]
    access_grants: Mapped[list] = mapped_column(default=list)
    """``[{id, principal_type: user|group|anyone, principal_id, permission: read|write}]``; empty = private."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class KnowledgeFile(Base):
    __tablename__ = "knowledge_file"
    __table_args__ = (UniqueConstraint("knowledge_id", "file_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    knowledge_id: Mapped[str] = mapped_column(ForeignKey("knowledge.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
