"""Durable jobs: one row per piece of work sent to a Dramatiq actor."""
from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, JSONType, new_id, now

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
STATUSES = ACTIVE + FINISHED


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_job_related_type_related_id", "related_type", "related_id"),
        Index("ix_job_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    """What the job does, for people and filters (``chat.completion``, ``file.process``)."""
    queue: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict | None] = mapped_column(JSONType)
    """``{type, message}``; ``detail`` (a trace) is kept for admins only."""
    result: Mapped[Any | None] = mapped_column(JSONType)
    result_path: Mapped[str | None] = mapped_column(Text)
    """Where a result too large for the row is stored (relative to the data directory)."""
    related_type: Mapped[str | None] = mapped_column(String(50))
    related_id: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The job (or other object) this one was started for, e.g. a chat message id."""
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    options: Mapped[dict] = mapped_column(JSONType, default=dict)
    """Dramatiq message options (time_limit, max_retries ...)."""
    message_id: Mapped[str | None] = mapped_column(String(64))
    """The Redis message id of the delivery currently running the job (the claim)."""
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now, onupdate=now)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
