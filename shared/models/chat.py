"""Chats, their share snapshots, folders and tags (Open WebUI's ``chat``, ``shared_chat``, ``folder``, ``tag``)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now

RawJSON = JSON(none_as_null=True)
"""Plain ``json`` (not JSONB) on PostgreSQL: it keeps the client's key order and text as sent."""


class Folder(Base):
    __tablename__ = "folder"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    items: Mapped[dict | None]
    meta: Mapped[dict | None]
    data: Mapped[dict | None]
    is_expanded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)

    __table_args__ = (Index("ix_folder_user_id_parent_id", "user_id", "parent_id"),)


class Chat(Base):
    __tablename__ = "chat"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text, default="New Chat")
    chat: Mapped[Any] = mapped_column(RawJSON)
    """The client's chat object, stored as sent."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)
    share_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict] = mapped_column(default=dict)
    variables: Mapped[dict | None]
    folder_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id", ondelete="SET NULL"))
    current_message_id: Mapped[str | None] = mapped_column(Text)
    last_read_at: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        # The sidebar list and the archived list: one user's chats by recency, without a scan.
        Index("ix_chat_user_id_archived_updated_at", "user_id", "archived", "updated_at", "id"),
        Index("ix_chat_user_id_pinned", "user_id", "pinned"),
        Index("ix_chat_folder_id", "folder_id"),
    )


class SharedChat(Base):
    """A read-only snapshot of a chat, reachable by its share id."""

    __tablename__ = "shared_chat"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    chat: Mapped[Any] = mapped_column(RawJSON)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Tag(Base):
    """A user's tag; its id is the normalised name (``"Road Trip"`` → ``"road_trip"``)."""

    __tablename__ = "tag"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict | None]


class ChatTag(Base):
    """Which chat carries which tag: an index for "chats with tag X" (``chat.meta.tags`` mirrors it)."""

    __tablename__ = "chat_tag"

    chat_id: Mapped[str] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_chat_tag_user_id_tag_id", "user_id", "tag_id"),)
