"""PostgreSQL's text and JSONB cannot hold NUL characters: titles drop them; elsewhere the database's refusal
is answered as 400 (``web.errors.refused_by_database``)."""
from __future__ import annotations

NUL = "\x00"


def strip_nul(text: str) -> str:
    return text.replace(NUL, "")
