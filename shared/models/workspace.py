"""The workspace's shared objects: custom models, prompts and skills, each with Open WebUI's access grants and
a version history."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.access_grant import Shareable
from shared.models.base import Base, new_id, now


class WorkspaceModel(Shareable, Base):
    """A model preset (``base_model_id`` set: a custom model over an upstream one) or an admin's settings for an
    upstream model (``base_model_id`` empty, ``id`` the upstream's)."""

    __tablename__ = "model"
    resource_type = "model"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    base_model_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(default=dict)
    """``system``, ``temperature``, ``top_p``, ``max_tokens``, ``stop``, ``seed`` ... applied to each call."""
    meta: Mapped[dict] = mapped_column(default=dict)
    """``description``, ``profile_image_url``, ``capabilities``, ``knowledge``, ``toolIds``, ``tags`` ..."""
    version_id: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class Prompt(Shareable, Base):
    """A saved prompt the chat box inserts by its ``/command``."""

    __tablename__ = "prompt"
    resource_type = "prompt"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    command: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None]
    meta: Mapped[dict | None]
    tags: Mapped[list] = mapped_column(default=list)
    version_id: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class Skill(Shareable, Base):
    """Instructions (and files) a model loads when a chat needs them."""

    __tablename__ = "skill"
    resource_type = "skill"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None]
    meta: Mapped[dict] = mapped_column(default=dict)
    version_id: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class Version(Base):
    """One saved state of a workspace object (Open WebUI's ``model_history``, ``prompt_history`` ...), in one
    table for every kind; the object's ``version_id`` names the one in use."""

    __tablename__ = "version"
    __table_args__ = (Index("ix_version_kind_object_id", "kind", "object_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[dict]
    user_id: Mapped[str] = mapped_column(String(64))
    commit_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)


class Tool(Shareable, Base):
    """A Python tool module (Open WebUI's ``Tools`` class): the functions a model may call, with the specs and
    valve schemas read from it by a job when it was saved."""

    __tablename__ = "tool"
    resource_type = "tool"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    specs: Mapped[list] = mapped_column(default=list)
    meta: Mapped[dict] = mapped_column(default=dict)
    """``description``, ``manifest`` (the frontmatter), the valve schemas."""
    valves: Mapped[dict | None]
    version_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class Function(Base):
    """A Python function module: a filter (inlet/stream/outlet around each model call), an action (a button
    under a reply) or a pipe (a model of its own)."""

    __tablename__ = "function"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(default=dict)
    valves: Mapped[dict | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    is_global: Mapped[bool] = mapped_column(Boolean, default=False)
    version_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
