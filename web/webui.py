"""The Open WebUI web app at ``/``: its built files, a SPA fallback to ``index.html``, and the install hint.

API prefixes never fall back to the app: an unknown ``/api/...`` path stays a JSON 404.
"""
from __future__ import annotations

from html import escape

from flask import Response, abort, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from shared import webui_bundle
from shared.config import get_settings
from web.blueprint import Blueprint

blp = Blueprint("webui", __name__, description="The Open WebUI web app (static files)")

API_PREFIXES = ("api", "ollama", "openai", "ws")
IMMUTABLE_PREFIX = "_app/immutable/"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=3600"

NOT_INSTALLED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>{name} API is running</h1>
<p>The web app is not installed (yet: <code>switchyard serve</code> installs it in the background on its
first start, unless <code>WEBUI_INSTALL=false</code>; its output says when it is done or why it failed).
Install it yourself with</p>
<pre>switchyard webui install</pre>
<p>and reload this page. The API is documented at <a href="/docs">/docs</a>.</p>
</body></html>
"""


class AppPathConverter(BaseConverter):
    """A path of the web app: anything except the API prefixes."""

    regex = r"(?!(?:" + "|".join(API_PREFIXES) + r")(?:/|$))[^/].*?"
    part_isolating = False


@blp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["app_path"] = AppPathConverter


def _index() -> Response:
    response = send_from_directory(webui_bundle.bundle_dir(), "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _file(path: str) -> Response | None:
    try:
        response = send_from_directory(webui_bundle.bundle_dir(), path)
    except NotFound:  # a missing file, or a path that would leave the bundle
        return None
    response.headers["Cache-Control"] = LONG_CACHE if path.startswith(IMMUTABLE_PREFIX) else SHORT_CACHE
    return response


@blp.route("/", methods=["GET"])
def index():
    if not webui_bundle.is_installed():
        return Response(NOT_INSTALLED_PAGE.format(name=escape(get_settings().name)), mimetype="text/html")
    return _index()


@blp.route("/<app_path:path>", methods=["GET"])
def app_file(path: str):
    """A built file, else ``index.html`` for the SPA's own routes (``/c/<id>``, ``/auth``, ...)."""
    if not webui_bundle.is_installed():
        abort(404)
    response = _file(path)
    if response is not None:
        return response
    if path.startswith(("_app/", "static/")) or path.endswith((".js", ".css", ".map")):
        abort(404)
    return _index()


@blp.route("/favicon.ico", methods=["GET"])
@blp.route("/favicon.png", methods=["GET"])
def favicon():
    """The browser's default icon request, answered from the bundle's ``static/`` icons."""
    name = request.path.rsplit("/", 1)[1]
    response = _file(f"static/{name}") if webui_bundle.is_installed() else None
    if response is None:
        abort(404)
    return response


@blp.route("/opensearch.xml", methods=["GET"])
def opensearch():
    name = escape(get_settings().name)
    base = escape(request.host_url.rstrip("/"))
    body = (
        '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:moz="http://www.mozilla.org/2006/browser/search/">'
        f"<ShortName>{name}</ShortName><Description>Search {name}</Description>"
        "<InputEncoding>UTF-8</InputEncoding>"
        f'<Image width="16" height="16" type="image/x-icon">{base}/static/favicon.png</Image>'
        f'<Url type="text/html" method="get" template="{base}/?q={{searchTerms}}"/>'
        f"<moz:SearchForm>{base}</moz:SearchForm></OpenSearchDescription>"
    )
    return Response(body, mimetype="application/xml")
