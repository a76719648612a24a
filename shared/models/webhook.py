"""Event webhooks: where the admin wants events posted, and each delivery of one event to one webhook."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now

DELIVERY_STATUSES = ("pending", "delivered", "failed", "dead")
"""``pending`` not tried yet; ``failed`` an attempt failed and another is scheduled; ``delivered``; ``dead`` no
attempt is left (a dead letter, which the admin may redeliver)."""


class Webhook(Base):
    __tablename__ = "webhook"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list]
    """Event names, ``<resource>.*`` prefixes or ``*`` (Open WebUI's filters)."""
    targets: Mapped[list | None]
    """Open WebUI's ``[{type: user|group, id}]``: only events about these users (None: every event)."""
    secret: Mapped[str] = mapped_column(Text)
    """The HMAC key of the signature header, encrypted with the deployment's secret key."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class WebhookDelivery(Base):
    """One event for one webhook: its body as signed and sent, and how the attempts went."""

    __tablename__ = "webhook_delivery"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(64))
    """The job of the latest delivery (a redelivery starts another)."""
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_snippet: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_webhook_delivery_webhook_id_created_at", "webhook_id", "created_at"),)
