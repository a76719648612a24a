"""Memory paths (``work/projects/apollo``): cleaning them, and Open WebUI's lookups by text and path over a
user's memories (``/memories/search``, ``/paths``, ``/path``). Memories are few per user, so these rank rows in
Python exactly as Open WebUI does rather than in SQL."""
from __future__ import annotations

import re
from typing import Iterable, Protocol

from shared.errors import BadRequest


class MemoryRow(Protocol):
    id: str
    type: str
    path: str | None
    content: str
    updated_at: int


def clean_content(content: str | None) -> str:
    value = (content or "").strip()
    if not value:
        raise BadRequest("Memory content cannot be empty")
    return value


def clean_path(path: str | None) -> str | None:
    """``a//b/`` -> ``a/b``; empty -> ``None``; ``.``/``..`` segments or control characters: 400."""
    value = re.sub(r"/+", "/", (path or "").strip().strip("/"))
    if not value:
        return None
    if any(part in {"", ".", ".."} for part in value.split("/")) or any(ord(char) < 32 for char in value):
        raise BadRequest("Invalid memory path")
    return value


def _parts(path: str | None) -> list[str]:
    return [part for part in (path or "").split("/") if part]


def _parent(path: str | None) -> str | None:
    parts = _parts(path)
    return "/".join(parts[:-1]) if len(parts) > 1 else None


def _rank(memory_path: str | None, lookup: str) -> tuple[int, int] | None:
    """How close a memory's path is to ``lookup``: same, below, above, sibling, sharing segments, same leaf."""
    memory_path = clean_path(memory_path)
    if not memory_path:
        return None
    if memory_path == lookup:
        return (0, 0)
    if memory_path.startswith(f"{lookup}/"):
        return (1, len(_parts(memory_path)) - len(_parts(lookup)))
    if lookup.startswith(f"{memory_path}/"):
        return (2, len(_parts(lookup)) - len(_parts(memory_path)))
    if _parent(memory_path) and _parent(memory_path) == _parent(lookup):
        return (3, 0)
    shared = len(set(_parts(memory_path)) & set(_parts(lookup)))
    if shared:
        return (4, -shared)
    if _parts(memory_path)[-1:] == _parts(lookup)[-1:]:
        return (5, 0)
    return None


def _matches(memory: MemoryRow, query: str) -> bool:
    value = query.strip().lower()
    return not value or value in (memory.content or "").lower() or value in (memory.path or "").lower()


def _of_type(rows: Iterable[MemoryRow], memory_type: str) -> list[MemoryRow]:
    return [m for m in rows if memory_type == "all" or m.type == memory_type]


def search(rows: Iterable[MemoryRow], *, query: str | None = None, path: str | None = None,
           memory_id: str | None = None, memory_type: str = "all", limit: int = 20) -> list[MemoryRow]:
    """Memories whose text or path contains ``query``, related to ``path`` (closest first), newest first."""
    found = [m for m in _of_type(rows, memory_type) if not memory_id or m.id == memory_id]
    lookup = clean_path(path)
    if lookup:
        leaf = _parts(lookup)[-1].lower()
        found = [m for m in found if _rank(m.path, lookup) is not None
                 or lookup.lower() in f"{m.path or ''}\n{m.content or ''}".lower()
                 or leaf in f"{m.path or ''}\n{m.content or ''}".lower()]
    if query and query.strip():
        found = [m for m in found if _matches(m, query)]

    def key(memory: MemoryRow) -> tuple:
        rank = _rank(memory.path, lookup) if lookup else None
        return rank if rank is not None else (9, 0), -(memory.updated_at or 0), memory.id or ""

    return sorted(found, key=key)[:max(1, min(limit or 20, 100))]


def path_groups(rows: Iterable[MemoryRow], *, query: str = "", memory_type: str = "all", limit: int = 100) -> dict:
    """``{paths: [{path, type, count, updated_at, children}], count}``: the (path, type) groups, newest first."""
    grouped: dict[tuple[str | None, str], dict] = {}
    for memory in _of_type(rows, memory_type):
        if not _matches(memory, query):
            continue
        group = grouped.setdefault((memory.path, memory.type), {
            "path": memory.path, "type": memory.type, "count": 0, "updated_at": 0, "children": []})
        group["count"] += 1
        group["updated_at"] = max(group["updated_at"], memory.updated_at or 0)
    paths = [path for path, _ in grouped if path]
    for group in grouped.values():
        if group["path"]:
            prefix = f"{group['path']}/"
            children = [f"{prefix}{p[len(prefix):].split('/', 1)[0]}" for p in paths if p.startswith(prefix)]
            group["children"] = list(dict.fromkeys(children))[:20]
    groups = sorted(grouped.values(), key=lambda item: item["updated_at"], reverse=True)
    return {"paths": groups[:max(1, min(limit or 100, 500))], "count": len(groups)}


def read_path(rows: Iterable[MemoryRow], *, path: str, memory_type: str = "all", include_children: bool = True,
              limit: int = 50) -> dict:
    """``{path, parents, children, memories}``: the memories at ``path``, at its parents that hold memories, and
    (``include_children``) below it."""
    lookup = clean_path(path)
    if not lookup:
        raise BadRequest("Memory path is required")
    rows = _of_type(rows, memory_type)
    held = {m.path for m in rows if m.path}
    segments = _parts(lookup)
    parents = [p for p in ("/".join(segments[:i]) for i in range(1, len(segments))) if p in held]
    below = f"{lookup}/"
    children = sorted({f"{below}{m.path[len(below):].split('/', 1)[0]}"
                       for m in rows if m.path and m.path.startswith(below)})

    def selected(memory: MemoryRow) -> bool:
        return memory.path == lookup or memory.path in parents or bool(
            include_children and memory.path and memory.path.startswith(below))

    def key(memory: MemoryRow) -> tuple:
        if memory.path == lookup:
            return (0, 0, -(memory.updated_at or 0), memory.id or "")
        if memory.path and memory.path.startswith(below):
            return (1, len(_parts(memory.path)), -(memory.updated_at or 0), memory.id or "")
        return (2, -len(_parts(memory.path)), -(memory.updated_at or 0), memory.id or "")

    return {"path": lookup, "parents": parents, "children": children[:50],
            "memories": sorted(filter(selected, rows), key=key)[:max(1, min(limit or 50, 100))]}
