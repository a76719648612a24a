"""Tool servers the admin connects (Open WebUI's ``TOOL_SERVER_CONNECTIONS``), OpenAPI and MCP: their settings,
what they offer read by a job (never by the web) and kept beside the settings (an OpenAPI document; an MCP
server's tool list), the tools they are (``server:<idx>``, ``server:mcp:<info.id>``), and a call of one of their
functions, made by the chat job's worker."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest, NotFound
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers import mcp_tools, openapi_tools
from shared.services import access, app_config
from shared.services.llm import connections

CONNECTIONS, DOCUMENTS = "tool_server.connections", "tool_server.documents"
CONFIG_DEFAULTS = {CONNECTIONS: lambda _s: [], DOCUMENTS: lambda _s: {}}
PREFIX = "server:"
MCP = "mcp"
NOT_FOUND = "Tool not found"


def _stored(connection: dict) -> dict:
    return {**connection, "key": encrypt(connection["key"]) if connection.get("key") else connection.get("key")}


def _clear(connection: dict) -> dict:
    return {**connection, "key": decrypt(connection["key"]) if connection.get("key") else connection.get("key")}


def read_config(session: Session) -> dict:
    return {"TOOL_SERVER_CONNECTIONS": [_clear(c) for c in app_config.get(session, CONNECTIONS) or []]}


def update_config(session: Session, user: User, servers: list[dict]) -> dict:
    """Save the servers (keys encrypted) and send the job that reads their documents."""
    app_config.set_many(session, {CONNECTIONS: [_stored(c) for c in servers], DOCUMENTS: {}})
    catalog.send(session, catalog.TOOL_SERVER_DOCUMENTS, catalog.Nothing(), owner_id=user.id)
    return read_config(session)


def start_verify(session: Session, user: User, server: dict) -> Job:
    """Read a server's document before it is saved (a job); its result: the document."""
    if not str(server.get("url", "")).startswith(("http://", "https://")):
        raise BadRequest("Invalid URL: it must start with http:// or https://")
    return catalog.send(session, catalog.VERIFY_TOOL_SERVER, catalog.ToolServer(server), owner_id=user.id)


def _kind(connection: dict) -> str:
    return connection.get("type") or "openapi"


def _enabled(connection: dict) -> bool:
    """An OpenAPI server is on unless switched off; an MCP server only when switched on (as Open WebUI)."""
    enable = (connection.get("config") or {}).get("enable")
    return bool(enable) if _kind(connection) == MCP else enable is not False


def _key(idx: int, connection: dict) -> str:
    """What follows ``server:`` in the server's tool id: its index, or ``mcp:<info.id>``."""
    return f"{MCP}:{(connection.get('info') or {}).get('id')}" if _kind(connection) == MCP else str(idx)


def _headers(connection: dict) -> dict[str, str]:
    key = connection.get("key")
    return {"Authorization": f"Bearer {key}"} if key and connection.get("auth_type") in (None, "bearer") else {}


def fetch_document(connection: dict, timeout: float) -> dict:
    """What the server offers: its OpenAPI document, or an MCP server's ``{"specs": [...]}``."""
    server = _clear(connection)
    if _kind(server) == MCP:
        return {"specs": mcp_tools.tool_specs(server["url"], _headers(server), timeout)}
    return openapi_tools.document(server["url"], server.get("path") or "openapi.json", server.get("key"), timeout)


def refresh_documents(session: Session) -> dict[str, Any]:
    """The job's step: read what each enabled server offers and keep it (a server that fails is left out and
    reported)."""
    timeout = connections.timeouts(session)[1]
    documents, errors = {}, {}
    for idx, connection in enumerate(app_config.get(session, CONNECTIONS) or []):
        if not _enabled(connection):
            continue
        try:
            documents[_key(idx, connection)] = fetch_document(connection, timeout)
        except Exception as error:  # noqa: BLE001  (one server down leaves the others usable)
            errors[_key(idx, connection)] = getattr(error, "detail", None) or str(error)
    app_config.set_many(session, {DOCUMENTS: documents})
    return {"servers": len(documents), "errors": errors}


def _usable(connection: dict, user: User) -> bool:
    """A server without grants is every user's; with grants, those they name (admins always)."""
    grants = (connection.get("config") or {}).get("access_grants") or []
    return user.role == "admin" or not grants or access.grants_allow(grants, user, "read")


def listed(session: Session, user: User) -> list[tuple[str, dict, dict]]:
    """(tool id, connection, what it offers) of each enabled server the user may use: an OpenAPI server once its
    document was read, an MCP server always (its tools once a job has listed them)."""
    documents = app_config.get(session, DOCUMENTS) or {}
    found = []
    for idx, connection in enumerate(app_config.get(session, CONNECTIONS) or []):
        document = documents.get(_key(idx, connection))
        if _enabled(connection) and (document is not None or _kind(connection) == MCP) and _usable(connection, user):
            found.append((f"{PREFIX}{_key(idx, connection)}", connection, document or {}))
    return found


def tool_json(tool_id: str, connection: dict, document: dict) -> dict:
    """A server as Open WebUI lists it among the tools."""
    mcp = _kind(connection) == MCP
    info = (connection.get("info") if mcp else document.get("info")) or {}
    name = info.get("name", "MCP Tool Server") if mcp else info.get("title", "Tool Server")
    return {"id": tool_id, "user_id": tool_id, "name": name, "meta": {"description": info.get("description", "")},
            "access_grants": [], "updated_at": 0, "created_at": 0}


def _find(session: Session, user: User | None, tool_id: str) -> tuple[dict, dict]:
    """The connection and stored offer of server ``tool_id`` (for ``user``, when given, only if they may use it)."""
    documents = app_config.get(session, DOCUMENTS) or {}
    for idx, connection in enumerate(app_config.get(session, CONNECTIONS) or []):
        if f"{PREFIX}{_key(idx, connection)}" == tool_id and _enabled(connection) and (
                user is None or _usable(connection, user)):
            return connection, documents.get(_key(idx, connection)) or {}
    raise NotFound(NOT_FOUND)


def offered(session: Session, user: User, tool_id: str) -> list[dict]:
    """The function specs of server ``tool_id``, when the user may use it."""
    try:
        connection, document = _find(session, user, tool_id)
    except NotFound:
        return []
    if _kind(connection) == MCP:
        return document.get("specs") or []
    return openapi_tools.function_specs(document) if document else []


def start_specs(session: Session, user: User, tool_id: str) -> Job:
    """``/tools/id/{id}/specs``: an MCP server's tools listed now, by a job (404 for anything else)."""
    if not tool_id.startswith(f"{PREFIX}{MCP}:"):
        raise NotFound(NOT_FOUND)
    _find(session, user, tool_id)
    return catalog.send(session, catalog.MCP_SPECS, catalog.ToolServerSpecs(tool_id), owner_id=user.id)


def discover(session: Session, tool_id: str) -> dict:
    """The job's step: list the MCP server's tools, keep them for chats, answer their names and descriptions."""
    connection, _document = _find(session, None, tool_id)
    document = fetch_document(connection, connections.timeouts(session)[1])
    app_config.set_many(session, {DOCUMENTS: {**(app_config.get(session, DOCUMENTS) or {}),
                                              tool_id.removeprefix(PREFIX): document}})
    return {"specs": [{"name": spec["name"], "description": spec.get("description", "")}
                      for spec in document["specs"]]}


def call(session: Session, tool_id: str, name: str, arguments: dict) -> Any:
    """Call function ``name`` of server ``tool_id`` with the model's arguments."""
    try:
        connection, document = _find(session, None, tool_id)
    except NotFound:
        raise NotFound(f"The tool server {tool_id} is not connected.") from None
    server, timeout = _clear(connection), connections.timeouts(session)[0]
    if _kind(server) == MCP:
        return mcp_tools.call(server["url"], _headers(server), name, arguments, timeout)
    if not document:
        raise NotFound(f"The tool server {tool_id} is not connected.")
    return openapi_tools.call(server["url"], server.get("key"), document, name, arguments, timeout)
