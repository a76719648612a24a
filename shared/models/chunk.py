"""Embedded text chunks: the SQL vector store's rows, grouped in named collections."""
from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, new_id, now


class Chunk(Base):
    __tablename__ = "vector_chunk"
    __table_args__ = (Index("ix_vector_chunk_collection_file", "collection", "file_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    collection: Mapped[str] = mapped_column(String(255))
    """``file-<id>``, a knowledge base id, ``user-memory-<user id>`` ..."""
    file_id: Mapped[str | None] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict | None]
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    """float32 little-endian, L2-normalised, ``dimensions`` long."""
    dimensions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
