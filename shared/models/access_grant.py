"""Open WebUI's access grants as rows: who (a user, a group, or anyone) may read or write which shared object.
Rows, not a JSON list on each object, so "what may this user see" is an indexed lookup."""
from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, and_
from sqlalchemy.orm import Mapped, declared_attr, foreign, mapped_column, relationship

from shared.models.base import Base, new_id, now


class AccessGrant(Base):
    __tablename__ = "access_grant"
    __table_args__ = (
        Index("ix_access_grant_resource", "resource_type", "resource_id"),
        Index("ix_access_grant_principal", "principal_type", "principal_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    resource_type: Mapped[str] = mapped_column(String(32))
    """``knowledge``, ``model``, ``prompt``, ``skill`` or ``tool``."""
    resource_id: Mapped[str] = mapped_column(String(255))
    principal_type: Mapped[str] = mapped_column(String(16))
    """``user``, ``group`` or ``anyone`` (``user:*`` and ``anyone:*``: everyone)."""
    principal_id: Mapped[str] = mapped_column(String(255))
    permission: Mapped[str] = mapped_column(String(16))
    """``read`` or ``write`` (write implies read)."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)

    def as_json(self) -> dict:
        return {"id": self.id, "principal_type": self.principal_type, "principal_id": self.principal_id,
                "permission": self.permission}


class Shareable:
    """An object with access grants. ``access_grants`` keeps the JSON list shape the API answers with; the
    grants are loaded with the objects of a listing in one query."""

    resource_type: str

    @declared_attr
    def grant_rows(cls) -> Mapped[list[AccessGrant]]:
        return relationship(
            AccessGrant, lazy="selectin", cascade="all, delete-orphan", order_by=AccessGrant.created_at,
            primaryjoin=lambda: and_(foreign(AccessGrant.resource_id) == cls.id,
                                     AccessGrant.resource_type == cls.resource_type),
            overlaps="grant_rows")

    @property
    def access_grants(self) -> list[dict]:
        return [grant.as_json() for grant in self.grant_rows]

    @access_grants.setter
    def access_grants(self, grants: list[dict] | None) -> None:
        self.grant_rows = [AccessGrant(id=g.get("id") or new_id(), resource_type=self.resource_type,
                                       principal_type=g["principal_type"], principal_id=g["principal_id"],
                                       permission=g["permission"]) for g in grants or []]
