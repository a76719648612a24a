"""Splitting text into overlapping chunks (a recursive character splitter, like Open WebUI's default)."""
from __future__ import annotations

SEPARATORS = ("\n\n", "\n", ". ", " ", "")


def _split(text: str, size: int, separators: tuple[str, ...]) -> list[str]:
    """Pieces no longer than ``size``, cut at the coarsest separator that works."""
    if len(text) <= size:
        return [text]
    sep, rest = separators[0], separators[1:]
    if sep == "":
        return [text[i:i + size] for i in range(0, len(text), size)]
    pieces = text.split(sep)
    out: list[str] = []
    for index, piece in enumerate(pieces):
        piece = piece + sep if index < len(pieces) - 1 else piece
        out.extend(_split(piece, size, rest) if len(piece) > size else [piece])
    return out


def split_text(text: str, chunk_size: int = 1000, chunk_overlap: int = 100) -> list[str]:
    """Chunks of at most ``chunk_size`` characters; consecutive chunks share up to ``chunk_overlap`` characters."""
    if chunk_size <= 0:
        raise ValueError("chunk size must be positive")
    overlap = max(0, min(chunk_overlap, chunk_size - 1))
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for piece in _split(text, chunk_size, SEPARATORS):
        if length + len(piece) > chunk_size and current:
            chunks.append("".join(current).strip())
            while current and (length > overlap or length + len(piece) > chunk_size):
                length -= len(current.pop(0))
        current.append(piece)
        length += len(piece)
    if current:
        chunks.append("".join(current).strip())
    return [chunk for chunk in chunks if chunk]
