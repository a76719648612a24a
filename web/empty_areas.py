"""Areas Switchyard does not implement yet, answering what the web app expects of an empty workspace.

The app lists channels and terminal servers at boot and on the chat page; each answers that there are none
instead of an error that would break the page. Creating any of them answers 501 (``web/unbuilt.py``).
"""
from __future__ import annotations

from collections.abc import Callable

from flask import jsonify

from web.blueprint import Blueprint
from web.caller import user_required

EMPTY_LIST: Callable[[], list] = list


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
    empty_area("channels", "/api/v1/channels", {"/": (user_required, EMPTY_LIST), "/list": (user_required, EMPTY_LIST)}),
    empty_area("terminals", "/api/v1/terminals", {"/": (user_required, EMPTY_LIST)}),
)
