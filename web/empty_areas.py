"""Areas Switchyard does not implement yet, answering what the web app expects of an empty workspace.

The app lists tools, functions, skills, prompts, channels and terminal servers at boot and on the chat
page; each area answers an empty list (or an empty page) instead of a 404 that would break the page.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import jsonify

from web.blueprint import Blueprint
from web.caller import admin_required, user_required

EMPTY_LIST: Callable[[], list] = list


def EMPTY_PAGE() -> dict:  # noqa: N802  (named like the constant it stands beside)
    """Open WebUI's paged list shape, with nothing in it."""
    return {"items": [], "total": 0}


def empty_area(name: str, prefix: str, routes: dict[str, tuple[Callable, Callable]]) -> Blueprint:
    """A blueprint for ``prefix`` whose GET ``routes`` (path → (auth decorator, empty value)) answer nothing."""
    blp = Blueprint(name, __name__, url_prefix=prefix, description=f"{name.capitalize()} (none configured)")
    for path, (auth, empty) in routes.items():
        def view(empty=empty):
            return jsonify(empty())

        endpoint = f"{name}_{path.strip('/') or 'index'}"
        view.__name__ = endpoint
        view.__doc__ = f"Always empty: {name} are not implemented by Switchyard."
        blp.route(path, methods=["GET"], endpoint=endpoint)(auth(view))
    return blp


BLUEPRINTS = (
    empty_area("tools", "/api/v1/tools", {"/": (user_required, EMPTY_LIST), "/list": (user_required, EMPTY_LIST)}),
    empty_area("functions", "/api/v1/functions",
               {"/": (user_required, EMPTY_LIST), "/list": (admin_required, EMPTY_LIST)}),
    empty_area("skills", "/api/v1/skills", {"/": (user_required, EMPTY_LIST), "/list": (user_required, EMPTY_PAGE)}),
    empty_area("prompts", "/api/v1/prompts", {"/": (user_required, EMPTY_LIST), "/list": (user_required, EMPTY_PAGE)}),
    empty_area("channels", "/api/v1/channels", {"/": (user_required, EMPTY_LIST), "/list": (user_required, EMPTY_LIST)}),
    empty_area("terminals", "/api/v1/terminals", {"/": (user_required, EMPTY_LIST)}),
)
