"""Accounts: the user profile, its credentials and its API key."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class User(Base):
    __tablename__ = "user"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    username: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    name: Mapped[str] = mapped_column(String(255))
    profile_image_url: Mapped[str] = mapped_column(Text, default="/user.png")
    bio: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    timezone: Mapped[str | None] = mapped_column(String(64))
    info: Mapped[dict | None]
    settings: Mapped[dict | None]
    variables: Mapped[dict | None]
    """The user's own prompt variables (``{name: text}``), Open WebUI's ``user.variables``."""
    oauth: Mapped[dict | None]
    """``{provider: {"sub": ...}}``: the identities this account signs in with through OAuth/OIDC."""
    scim: Mapped[dict | None]
    """What a SCIM client set that has no column of its own (``externalId``, ``active`` ...)."""
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped when every earlier token must stop working (password change)."""
    last_active_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now, index=True)


class Credential(Base):
    """Password credentials, kept apart from the profile (Open WebUI's ``auth`` table)."""

    __tablename__ = "auth"

    id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiKey(Base):
    """One ``sk-`` key per user: looked up by its SHA-256, kept encrypted so its owner can read it back."""

    __tablename__ = "api_key"

    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_cipher: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)


class RevokedToken(Base):
    """A signed-out JWT, refused until it would have expired anyway."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
