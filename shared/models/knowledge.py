"""Knowledge bases: named sets of files that chats can retrieve from, shared through access grants."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.access_grant import Shareable
from shared.models.base import Base, new_id, now


class Knowledge(Shareable, Base):
    __tablename__ = "knowledge"
    resource_type = "knowledge"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict | None]
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class KnowledgeDirectory(Base):
    """A folder inside a knowledge base (Open WebUI's ``knowledge_directory``): names are unique per parent,
    and removing a directory removes its subdirectories."""
    __tablename__ = "knowledge_directory"
    __table_args__ = (UniqueConstraint("knowledge_id", "parent_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    knowledge_id: Mapped[str] = mapped_column(ForeignKey("knowledge.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("knowledge_directory.id", ondelete="CASCADE"),
                                                  index=True)
    name: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class KnowledgeFile(Base):
    __tablename__ = "knowledge_file"
    __table_args__ = (UniqueConstraint("knowledge_id", "file_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    knowledge_id: Mapped[str] = mapped_column(ForeignKey("knowledge.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"), index=True)
    directory_id: Mapped[str | None] = mapped_column(ForeignKey("knowledge_directory.id", ondelete="SET NULL"),
                                                     index=True)
    """The directory the file sits in; ``None`` is the knowledge base's root."""
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
