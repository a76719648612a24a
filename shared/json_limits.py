"""How deep and how large JSON values may be: what the web layer accepts and what a stored value may hold.

Python's JSON parser, ``copy.deepcopy`` and the database driver all recurse once per level, so a value
nested a few hundred levels deep fails wherever it is read; numbers beyond 64 bits fit no column.
"""
from __future__ import annotations

MAX_JSON_DEPTH = 64
"""Far beyond what any Open WebUI body nests (a chat, a tool's JSON schema), far below Python's recursion."""
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels"


def beyond_64_bits(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX


def json_problem(value: object) -> str | None:
    """Why a JSON value may not be taken (too deep, a number beyond 64 bits), or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if beyond_64_bits(item):
            return "a number is beyond 64 bits"
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return TOO_DEEP
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None
