"""Terminal servers the admin connects (Open WebUI's ``TERMINAL_SERVER_CONNECTIONS``): stored (keys encrypted) and
checked by a job. Running terminals, their policies and lifecycles is not part of Switchyard: those routes
answer 501."""
from __future__ import annotations

from sqlalchemy.orm import Session

from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest, NotImplementedYet
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers import terminal_servers
from shared.services import app_config
from shared.services.llm import connections

CONNECTIONS = "terminal_server.connections"
CONFIG_DEFAULTS = {CONNECTIONS: lambda _s: []}
NOT_RUN = ("Switchyard stores terminal servers and checks them, but does not run terminals: their policies, "
           "lifecycles and refreshes are managed on the terminal server itself.")


def read_config(session: Session) -> dict:
    stored = app_config.get(session, CONNECTIONS) or []
    return {"TERMINAL_SERVER_CONNECTIONS": [
        {**c, "key": decrypt(c["key"]) if c.get("key") else c.get("key")} for c in stored]}


def update_config(session: Session, servers: list[dict]) -> dict:
    """Save the servers (their ``policy`` and ``lifecycle`` are the server's own, not stored: as Open WebUI)."""
    app_config.set_many(session, {CONNECTIONS: [
        {**{k: v for k, v in c.items() if k not in ("policy", "lifecycle")},
         "key": encrypt(c["key"]) if c.get("key") else c.get("key")} for c in servers]})
    return read_config(session)


def start_verify(session: Session, user: User, server: dict) -> Job:
    if not str(server.get("url", "")).strip().startswith(("http://", "https://")):
        raise BadRequest("Terminal server URL is required")
    return catalog.send(session, catalog.VERIFY_TERMINAL_SERVER, catalog.ToolServer(server), owner_id=user.id)


def verify(session: Session, server: dict) -> dict:
    """The job's step: ``{status: true, type}`` for a server that answers (400 otherwise)."""
    key = server.get("key") if server.get("auth_type", "bearer") == "bearer" else None
    found = terminal_servers.kind(server["url"], key, connections.timeouts(session)[1])
    if found is None:
        raise BadRequest("Failed to connect to the terminal server")
    return {"status": True, "type": found}


def refuse_running() -> None:
    raise NotImplementedYet(NOT_RUN)
