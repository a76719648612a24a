"""Declarative base, column types and id/time helpers shared by every table."""
from __future__ import annotations

import time
import uuid

from sqlalchemy import JSON, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

JSONType = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSONType, list: JSONType}


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> int:
    """Unix seconds, the unit Open WebUI's JSON uses for most times."""
    return int(time.time())


def now_ns() -> int:
    """Unix nanoseconds, the unit of Open WebUI's newer tables (notes)."""
    return time.time_ns()
