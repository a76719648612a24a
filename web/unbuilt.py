"""Open WebUI routes that Switchyard does not serve yet answer 501 with a message naming them.

A client of Open WebUI calling a part not built here learns that it is missing rather than that it
does not exist (a 404 reads like a wrong path or an unknown object).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


def _rule(method: str, path: str) -> Rule:
    """Open WebUI's ``{id}`` / ``{chat_id:path}`` placeholders as werkzeug's converters."""
    converted = _PARAM.sub(lambda m: f"<{'path:' if ':path' in m.group(0) else ''}{m.group(1)}>", path)
    return Rule(converted, methods=[method])


@lru_cache(maxsize=1)
def _routes() -> Map:
    text = resources.files("web").joinpath("openwebui_routes.txt").read_text()
    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    return Map([_rule(method, path) for method, path in lines], strict_slashes=False, merge_slashes=False)


def detail(method: str, path: str) -> str | None:
    """The 501 message when ``method path`` is one of Open WebUI's routes, else None."""
    try:
        _routes().bind("localhost").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        return None
    return f"{method} {path} is part of Open WebUI's API that Switchyard has not built yet."
