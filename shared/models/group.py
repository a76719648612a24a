"""Groups of users: who a grant names, whose permissions widen their members', what SCIM provisions."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class Group(Base):
    __tablename__ = "group"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    parent_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("group.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    """Who created it (the admin, or the SCIM client's admin)."""
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None]
    """Open WebUI's group ``data`` (``config.default_models`` ...); SCIM keeps ``externalId`` here."""
    meta: Mapped[dict | None]
    permissions: Mapped[dict | None]
    """The permission tree merged over the defaults for every member."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)


class GroupMember(Base):
    __tablename__ = "group_member"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_group_member_user_id_group_id", "user_id", "group_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("group.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
