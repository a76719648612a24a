"""External knowledge (Open WebUI's ``external_knowledge``): vector stores the admin connects (Qdrant, Milvus,
pgvector) and knowledge bases that read a collection of one instead of our own vectors.

Connections are admin configuration (``external_knowledge.connections``, a list as Open WebUI keeps it); their
secrets (``auth_config``, a pgvector DSN's password) are stored encrypted and never answered: a connection reads
back with ``auth_configured`` and the DSN's password masked, and sending the mask back keeps the stored one.
A knowledge base is external when its ``meta.source`` is ``external``; its ``meta.external`` names the
connection and the source collection. Every call to an external store runs in a job (tests, retrieval for a
query or a chat); the web only validates, stores and enqueues.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import messages
from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest, NotFound, UpstreamError
from shared.jobs import catalog
from shared.models import Job, Knowledge, User
from shared.providers import external_knowledge as stores
from shared.rag.embedding import get_embedder
from shared.rag.vectors import Hit
from shared.services import app_config
from shared.services import knowledge as knowledge_service

CONNECTIONS = "external_knowledge.connections"
CONFIG_DEFAULTS = {CONNECTIONS: lambda _s: []}
MASK = "********"
"""A pgvector DSN's password as the connection reads back."""
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)")
CONNECTION_NOT_FOUND = "External connection not found."
TEST_BASE = "external-test"
"""The connection id of a source being tried, and the knowledge base id its hits name, as Open WebUI's."""


# -- connections -------------------------------------------------------------------------------------

def _split_password(endpoint: str) -> tuple[str, str | None]:
    """A DSN with its password masked, and the password (URL or ``key=value`` form)."""
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        userinfo, _, host = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        if not password:
            return endpoint, None
        return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}")), password
    found = _KV_PASSWORD.search(endpoint)
    if not found:
        return endpoint, None
    return _KV_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", endpoint, count=1), found.group(2).strip("'")


def _with_password(endpoint: str, password: str | None) -> str:
    """The masked DSN with its password back in it."""
    if password is None or MASK not in endpoint:
        return endpoint
    return endpoint.replace(MASK, password, 1)


def clear(connection: dict) -> dict:
    """The connection as a provider needs it: its secrets decrypted, a DSN whole."""
    stored = connection.get("auth_config")
    auth = json.loads(decrypt(stored) or "{}") if isinstance(stored, str) else dict(stored or {})
    password = auth.pop("dsn_password", None)
    return {**connection, "auth_config": auth, "endpoint": _with_password(connection.get("endpoint", ""), password)}


def _sealed(connection: dict, auth: dict) -> dict:
    """The connection as it is stored: ``auth`` encrypted (a DSN's password in it, the DSN masked)."""
    auth = dict(auth or {})
    if connection["provider"] == "pgvector":
        endpoint, password = _split_password(connection["endpoint"])
        auth = {"dsn_password": password} if password is not None else {}
        connection = {**connection, "endpoint": endpoint}
    return {**connection, "auth_config": encrypt(json.dumps(auth)) if auth else {}}


def sanitized(connection: dict) -> dict:
    """What the admin reads: no secrets, whether there are some (Open WebUI's sanitizer)."""
    shown = {key: value for key, value in connection.items() if key != "auth_config"}
    return {**shown, "auth_configured": bool(connection.get("auth_config"))}


def connections(session: Session) -> list[dict]:
    return list(app_config.get(session, CONNECTIONS) or [])


def _save(session: Session, items: list[dict]) -> None:
    app_config.set_many(session, {CONNECTIONS: items})


def stored_connection(session: Session, connection_id: str, missing: str = messages.NOT_FOUND) -> dict:
    found = next((c for c in connections(session) if c.get("id") == connection_id), None)
    if found is None:
        raise NotFound(missing)
    return found


def _checked(form: dict) -> tuple[str, dict]:
    """The form's provider and the connection config it may set (Open WebUI's checks and messages)."""
    provider = str(form.get("provider") or "").lower().strip()
    if provider not in stores.PROVIDERS:
        raise BadRequest("Unsupported external knowledge provider.")
    if not str(form.get("name") or "").strip():
        raise BadRequest("Knowledge source name is required.")
    if not str(form.get("endpoint") or "").strip():
        raise BadRequest("Knowledge source endpoint is required.")
    allowed = {"timeout", "db_name"} if provider == "milvus" else {"timeout"}
    return provider, {k: v for k, v in (form.get("config") or {}).items() if k in allowed}


def _fields(form: dict, provider: str, config: dict) -> dict:
    return {"name": form["name"].strip(), "provider": provider, "endpoint": form["endpoint"].strip(),
            "config": config, "capabilities": form.get("capabilities") or {"retrieve": True},
            "enabled": form.get("enabled", True), "updated_at": int(time.time())}


def new_connection(form: dict, user: User, connection_id: str | None = None) -> dict:
    """A stored-form connection from the admin's form."""
    provider, config = _checked(form)
    connection = {"id": connection_id or str(uuid.uuid4()), **_fields(form, provider, config), "health": None,
                  "created_by": user.id, "created_at": int(time.time())}
    return _sealed(connection, {} if provider == "pgvector" else form.get("auth_config") or {})


def changed_connection(form: dict, existing: dict) -> dict:
    """``existing`` with the form's settings; no ``auth_config`` (or the masked DSN) keeps the stored secrets."""
    provider, config = _checked(form)
    current = clear(existing)
    changed = {**current, **_fields(form, provider, config)}
    if provider == "pgvector":
        _, old_password = _split_password(current["endpoint"])
        changed["endpoint"] = _with_password(changed["endpoint"], old_password)
    auth = current["auth_config"] if form.get("auth_config") is None else form["auth_config"] or {}
    return _sealed(changed, auth)


def list_connections(session: Session) -> dict:
    items = [sanitized(c) for c in connections(session)]
    return {"items": items, "total": len(items)}


def get_connection(session: Session, connection_id: str) -> dict:
    return sanitized(stored_connection(session, connection_id))


def create_connection(session: Session, user: User, form: dict) -> dict:
    connection = new_connection(form, user)
    _save(session, [*connections(session), connection])
    return sanitized(connection)


def _replace(session: Session, connection: dict) -> None:
    _save(session, [connection if c.get("id") == connection["id"] else c for c in connections(session)])


def update_connection(session: Session, connection_id: str, form: dict) -> dict:
    connection = changed_connection(form, stored_connection(session, connection_id))
    _replace(session, connection)
    return sanitized(connection)


def _bases_using(session: Session, connection_id: str) -> list[Knowledge]:
    return [k for k in session.scalars(select(Knowledge)) if knowledge_service.is_external(k)
            and (k.meta or {}).get("external", {}).get("connection_id") == connection_id]


def release_connection(session: Session, user: User, knowledge_id: str) -> None:
    """Before an admin removes an external base: its connection goes too when no other base reads from it."""
    knowledge = session.get(Knowledge, knowledge_id)
    if knowledge is None or user.role != "admin" or not knowledge_service.is_external(knowledge):
        return
    connection_id = knowledge.meta.get("external", {}).get("connection_id")
    if connection_id and len(_bases_using(session, connection_id)) <= 1:
        _save(session, [c for c in connections(session) if c.get("id") != connection_id])


def delete_connection(session: Session, connection_id: str) -> bool:
    stored_connection(session, connection_id)
    if _bases_using(session, connection_id):
        raise BadRequest("External connection is still used by knowledge bases.")
    _save(session, [c for c in connections(session) if c.get("id") != connection_id])
    return True


# -- sources -----------------------------------------------------------------------------------------

def normalized_source(source: dict | None, provider: str) -> dict:
    """The source collection and the fields it names (Open WebUI's checks: a collection, its content field,
    a vector field for Milvus and pgvector)."""
    source = source or {}
    kind = str(source.get("type") or "collection").strip()
    name = str(source.get("name") or "").strip()
    if kind != "collection":
        raise BadRequest("Only collection sources are supported.")
    if not name:
        raise BadRequest("Collection name is required.")
    allowed = {"content_field", "metadata_field", "document_id_field"}
    if provider in ("qdrant", "milvus"):
        allowed.add("vector_field")
    if provider == "pgvector":
        allowed |= {"table_name", "collection_field", "vector_field"}
    config = {key: value.strip() if isinstance(value, str) else value
              for key, value in (source.get("config") or {}).items()
              if key in allowed and value is not None and (not isinstance(value, str) or value.strip())}
    if not config.get("content_field"):
        raise BadRequest("Content field is required.")
    if provider in ("milvus", "pgvector") and not config.get("vector_field"):
        raise BadRequest("Vector field is required.")
    return {"type": kind, "name": name, "config": config}


def _test_query(query: str) -> str:
    if not str(query or "").strip():
        raise BadRequest("Test query is required.")
    return query.strip()


def _external_meta(connection: dict, source: dict) -> dict:
    return {"source": "external", "read_only": True, "external": {
        "connection_id": connection["id"], "source": source, "provider": connection["provider"],
        "auth_mode": "service_account", "capabilities": {"retrieve": True}}}


# -- jobs the routes start ---------------------------------------------------------------------------

def start_connection_test(session: Session, user: User, connection_id: str) -> Job:
    stored_connection(session, connection_id)
    return catalog.send(session, catalog.TEST_EXTERNAL_CONNECTION, catalog.ExternalConnection(connection_id),
                        owner_id=user.id)


def _start_retrieve_test(session: Session, user: User, connection: dict, source: dict | None, query: str,
                         count: int) -> Job:
    payload = catalog.ExternalRetrieveTest(connection, normalized_source(source, connection["provider"]),
                                           _test_query(query), count)
    return catalog.send(session, catalog.EXTERNAL_RETRIEVE_TEST, payload, owner_id=user.id)


def start_source_test(session: Session, user: User, form: dict) -> Job:
    """``/external/source/test``: a connection being edited (over a stored one) or a new one, tried."""
    if form.get("connection_id"):
        connection = changed_connection(form["connection"],
                                        stored_connection(session, form["connection_id"], CONNECTION_NOT_FOUND))
    else:
        connection = new_connection(form["connection"], user, TEST_BASE)
    return _start_retrieve_test(session, user, connection, form["source"], form["query"], form["count"])


DEFAULT_TEST_SOURCE = {"name": "test", "config": {"content_field": "payload.text"}}
"""What Open WebUI's retrieve-test reads when no source is named."""


def start_retrieve_test(session: Session, user: User, connection_id: str, form: dict) -> Job:
    return _start_retrieve_test(session, user, stored_connection(session, connection_id),
                                form.get("source") or DEFAULT_TEST_SOURCE, form["query"], form["count"])


def create_knowledge(session: Session, user: User, form: dict) -> Knowledge:
    """``/external/knowledge/create``: a knowledge base reading a collection of a stored connection."""
    connection = stored_connection(session, form["connection_id"])
    if not form["name"].strip():
        raise BadRequest("Knowledge name is required.")
    source = normalized_source(form["source"], connection["provider"])
    knowledge = knowledge_service.create_knowledge(session, user, form["name"].strip(), form["description"],
                                                   form.get("access_grants"))
    knowledge.meta = _external_meta(connection, source)
    session.flush()
    return knowledge


def _source_job(session: Session, user: User, form: dict, connection: dict, knowledge_id: str | None) -> Job:
    if not form["name"].strip():
        raise BadRequest("Knowledge name is required.")
    source = normalized_source(form["source"], connection["provider"])
    payload = catalog.ExternalSourceSave(
        connection, source, _test_query(form["test_query"]), form["test_count"], user.id,
        {"name": form["name"].strip(), "description": form["description"],
         "access_grants": form.get("access_grants")}, knowledge_id)
    return catalog.send(session, catalog.SAVE_EXTERNAL_SOURCE, payload, owner_id=user.id)


def start_source_create(session: Session, user: User, form: dict) -> Job:
    """``/external/source/create``: a new connection and its knowledge base, kept once a test query finds
    something (a job)."""
    return _source_job(session, user, form, new_connection(form["connection"], user), None)


def start_source_update(session: Session, user: User, knowledge_id: str, form: dict) -> Job:
    """``PATCH /external/source/{id}``: the base's connection and source changed, once a test query finds
    something (a job)."""
    knowledge = session.get(Knowledge, knowledge_id)
    if knowledge is None or not knowledge_service.is_external(knowledge):
        raise NotFound(messages.NOT_FOUND)
    connection_id = knowledge.meta.get("external", {}).get("connection_id")
    existing = stored_connection(session, connection_id, CONNECTION_NOT_FOUND)
    return _source_job(session, user, form, changed_connection(form["connection"], existing), knowledge_id)


# -- the jobs' steps ---------------------------------------------------------------------------------

def _query_vector(session: Session, query: str) -> list[float]:
    return [float(v) for v in get_embedder(session).embed([query])[0]]


def _search(session: Session, connection: dict, source: dict, query: str, count: int, base: tuple[str, str],
            vector: Sequence[float] | None = None) -> list[dict]:
    """The nearest points of the source for the query (embedded here by our embedder unless given), each
    named after the knowledge base ``base`` (id, name) when the store's payload names no source."""
    if not connection.get("enabled", True):
        raise BadRequest("External knowledge connection is disabled")
    store = stores.provider(connection["provider"])
    vector = _query_vector(session, query) if vector is None else [float(v) for v in vector]
    found = store.search(clear(connection), source, vector, count)
    base_id, base_name = base
    for item in found:
        meta = item["metadata"]
        meta.update(source=meta.get("source") or base_name, name=meta.get("name") or base_name,
                    knowledge_id=base_id, knowledge_name=base_name)
    return found


def check_connection(session: Session, connection_id: str) -> dict:
    """Reach the store; the health (``ok``, ``error`` when it could not be reached) kept on the connection."""
    connection = stored_connection(session, connection_id)
    health: dict[str, Any] = {"ok": False, "provider": connection["provider"]}
    if not connection.get("enabled", True):
        health["error"] = "The connection is disabled."
    else:
        try:
            stores.provider(connection["provider"]).ping(clear(connection))
            health["ok"] = True
        except (BadRequest, UpstreamError) as error:
            health["error"] = error.detail
    health["checked_at"] = int(time.time())
    _replace(session, {**connection, "health": health, "updated_at": health["checked_at"]})
    return health


def retrieve_test(session: Session, connection: dict, source: dict, query: str, count: int) -> dict:
    """Open WebUI's test answer: the documents, metadatas and distances of one query."""
    found = _search(session, connection, source, query, count, (TEST_BASE, connection["name"]))
    return {"documents": [f["content"] for f in found], "metadatas": [f["metadata"] for f in found],
            "distances": [f["distance"] for f in found]}


def save_source(session: Session, connection: dict, source: dict, query: str, count: int, user_id: str,
                knowledge: dict, knowledge_id: str | None) -> dict:
    """Keep the connection and its knowledge base (new, or ``knowledge_id`` changed) once the test query
    finds something; the base's id."""
    if not _search(session, connection, source, query, count, (TEST_BASE, connection["name"])):
        raise BadRequest("Test query returned no results.")
    user = session.get(User, user_id)
    if knowledge_id is None:
        _save(session, [*connections(session), connection])
        base = knowledge_service.create_knowledge(session, user, knowledge["name"], knowledge["description"],
                                                  knowledge["access_grants"])
    else:
        _replace(session, connection)
        base = knowledge_service.update_knowledge(session, user, knowledge_id, name=knowledge["name"],
                                                  description=knowledge["description"])
        if knowledge["access_grants"] is not None:
            base = knowledge_service.set_access(session, user, knowledge_id, knowledge["access_grants"])
    base.meta = _external_meta(connection, source)
    session.flush()
    return {"id": base.id}


def retrieve(session: Session, knowledge: Knowledge, query: str, vector: Sequence[float], count: int) -> list[Hit]:
    """A query against an external knowledge base, as hits (``score``: the store's own distance or score,
    which Open WebUI passes on unchanged), best first."""
    external = (knowledge.meta or {}).get("external") or {}
    connection = stored_connection(session, external.get("connection_id") or "", CONNECTION_NOT_FOUND)
    found = _search(session, connection, external.get("source") or {}, query, count, (knowledge.id, knowledge.name),
                    vector)
    return [Hit(id=f"{knowledge.id}:{index}", collection=knowledge.id, file_id=None, text=f["content"],
                meta=f["metadata"], score=float(f["distance"] or 0.0)) for index, f in enumerate(found)]


def external_bases(session: Session, names: list[str]) -> dict[str, Knowledge]:
    """The external knowledge bases among collection names."""
    if not names:
        return {}
    bases = session.scalars(select(Knowledge).where(Knowledge.id.in_(names)))
    return {k.id: k for k in bases if knowledge_service.is_external(k)}

