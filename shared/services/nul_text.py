"""PostgreSQL's text and JSONB cannot hold NUL characters: strip them from titles, refuse them elsewhere."""
from __future__ import annotations

from typing import Any

from shared.errors import BadRequest

NUL = "\x00"


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def refuse_nul(value: Any, name: str) -> Any:
    """``value`` unchanged, or BadRequest naming the field when it holds a NUL character."""
    if has_nul(value):
        raise BadRequest(f"'{name}' may not contain NUL characters")
    return value


def strip_nul(text: str) -> str:
    return text.replace(NUL, "")
