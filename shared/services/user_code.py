"""What tools and functions share: the code a job loaded in the sandbox (``shared.extensions``) and what it read
from it, their valves (the admin's) and user valves (each user's own, kept in their settings as Open WebUI keeps
them), and the id rules of their forms."""
from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy.orm import Session

from shared import messages
from shared.errors import BadRequest, NotFound, UpstreamError
from shared.jobs import catalog
from shared.models import Function, Job, Tool, User
from shared.providers import web_fetch

MAX_CODE_BYTES = 1024 * 1024
GITHUB_TREE = re.compile(r"https://github\.com/([^/]+)/([^/]+)/tree/([^/]+)/(.*)")
GITHUB_BLOB = re.compile(r"https://github\.com/([^/]+)/([^/]+)/blob/([^/]+)/(.*)")
ID_INVALID = "Only alphanumeric characters and underscores are allowed in the id"
ID_TAKEN = "Uh-oh! This id is already registered. Please choose another id string."
SCHEMAS = ("valves_spec", "user_valves_spec")
"""What ``meta`` keeps of the module for the valve routes, but does not show."""


class Code(Protocol):
    id: str
    name: str
    content: str
    meta: dict
    valves: dict | None


def form_id(raw: str) -> str:
    """A form's id as stored: a Python identifier, lower case (Open WebUI's rule)."""
    if not raw.isidentifier():
        raise BadRequest(ID_INVALID)
    return raw.lower()


def public_meta(meta: dict | None) -> dict:
    return {k: v for k, v in (meta or {}).items() if k not in SCHEMAS}


def loaded_meta(form_meta: dict | None, found: dict) -> dict:
    """The form's meta with what the sandbox read from the module: its frontmatter and valve schemas."""
    return {**(form_meta or {}), "manifest": found.get("manifest") or {},
            "has_user_valves": bool(found.get("has_user_valves")), "valves_spec": found.get("valves_spec"),
            "user_valves_spec": found.get("user_valves_spec")}


def snapshot(code: Code) -> dict:
    """What a version keeps."""
    return {"name": code.name, "content": code.content, "meta": public_meta(code.meta)}


def for_call(session: Session, kind: str, code_id: str, user_id: str) -> dict:
    """What a call of stored code sends the sandbox: the source, the admin's valves and the caller's own."""
    model, area = (Tool, "tools") if kind == "tool" else (Function, "functions")
    code = session.get(model, code_id)
    if code is None:
        raise NotFound(messages.NOT_FOUND)
    user = session.get(User, user_id)
    return {"source": code.content, "name": f"{kind}_{code.id}", "valves": code.valves or {},
            "user_valves": user_valves(user, area, code.id) if user is not None else None}


def checked_valves(values: dict, schema: dict | None) -> dict:
    """Valves as stored: only the keys the module's schema names (as pydantic would keep them)."""
    if not schema:
        raise BadRequest("The module has no valves.")
    known = schema.get("properties") or {}
    return {key: value for key, value in values.items() if key in known}


def set_valves(session: Session, code: Code, values: dict) -> dict:
    code.valves = checked_valves(values, (code.meta or {}).get("valves_spec"))
    session.flush()
    return code.valves


def user_valves(user: User, area: str, code_id: str) -> dict:
    """``area`` is ``tools`` or ``functions``."""
    return (((user.settings or {}).get(area) or {}).get("valves") or {}).get(code_id) or {}


def set_user_valves(session: Session, user: User, area: str, code: Code, values: dict) -> dict:
    schema = (code.meta or {}).get("user_valves_spec")
    if not schema:
        raise BadRequest("The module has no user valves.")
    checked = checked_valves(values, schema)
    settings = dict(user.settings or {})
    kept = dict(settings.get(area) or {})
    kept["valves"] = {**(kept.get("valves") or {}), code.id: checked}
    user.settings = {**settings, area: kept}
    session.flush()
    return checked


def raw_url(url: str) -> str:
    """A GitHub page's raw file (a folder: its ``main.py``), as Open WebUI reads one; other URLs as they are."""
    tree = GITHUB_TREE.match(url)
    if tree:
        org, repo, branch, path = tree.groups()
        return f"https://raw.githubusercontent.com/{org}/{repo}/refs/heads/{branch}/{path.rstrip('/')}/main.py"
    blob = GITHUB_BLOB.match(url)
    if blob:
        org, repo, branch, path = blob.groups()
        return f"https://raw.githubusercontent.com/{org}/{repo}/refs/heads/{branch}/{path}"
    return url


def start_load_url(session: Session, user: User, url: str) -> Job:
    """Download a module's code for the editor (admins): a job fetches it through the guarded fetch."""
    if not url.startswith(("http://", "https://")):
        raise BadRequest("Please enter a valid URL")
    return catalog.send(session, catalog.LOAD_CODE_URL, catalog.CodeUrl(url), owner_id=user.id)


def code_from_url(url: str) -> dict:
    """Open WebUI's answer: the module's name (its file's, or its folder's for a ``main.py``) and its code.
    Private and local addresses are refused by the guarded fetch."""
    source = raw_url(url)
    parts = source.rstrip("/").split("/")
    file_name = parts[-1]
    plain = file_name.endswith(".py") and not file_name.startswith(("main.py", "index.py", "__init__.py"))
    name = file_name[:-3] if plain else parts[-2] if len(parts) > 1 else "function"
    try:
        fetched = web_fetch.fetch(source, max_bytes=MAX_CODE_BYTES)
    except UpstreamError:
        raise BadRequest("Could not download the code. Please try again.") from None
    content = fetched.body.decode("utf-8", errors="replace")
    if not content.strip():
        raise BadRequest("No data received from the URL")
    return {"name": name, "content": content}
