"""``/api/v1/retrieval``: settings, indexing text, similarity queries (jobs on a real worker) and access."""
from __future__ import annotations

from tests.fakes.fixtures import FAKE_OPENAI_KEY, openai_server  # noqa: F401
from tests.helpers import bearer
from tests.rag_support import (  # noqa: F401
    embeddings, fake_ollama, query_collection, rag_worker, upload, wait_processed,
)

ANIMALS = b"Zebras have black and white stripes.\n\nPenguins live in the cold south.\n\nCamels store fat in humps."


def test_config_is_admin_only_and_round_trips(client, admin, make_user):
    user = make_user()
    assert client.get("/api/v1/retrieval/config", headers=bearer(user["token"])).status_code == 401
    config = client.get("/api/v1/retrieval/config", headers=bearer(admin["token"])).get_json()
    assert config["CHUNK_SIZE"] == 1000 and config["CHUNK_OVERLAP"] == 100 and config["TOP_K"] == 3
    assert "{{CONTEXT}}" in config["RAG_TEMPLATE"]
    updated = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                          json={"CHUNK_SIZE": 500, "TOP_K": 5, "ENABLE_RAG_HYBRID_SEARCH": True, "unknown": 1})
    assert updated.status_code == 200
    again = client.get("/api/v1/retrieval/config", headers=bearer(admin["token"])).get_json()
    assert (again["CHUNK_SIZE"], again["TOP_K"], again["ENABLE_RAG_HYBRID_SEARCH"]) == (500, 5, True)
    bad = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]), json={"TOP_K": "many"})
    assert bad.status_code == 422 and "TOP_K" in bad.get_json()["detail"]
    negative = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                           json={"FILE_MAX_SIZE": -3})
    assert negative.status_code == 400


def test_embedding_config_change_starts_a_reindex_job(client, admin, fake_ollama):
    before = client.get("/api/v1/retrieval/embedding", headers=bearer(admin["token"])).get_json()
    assert before["RAG_EMBEDDING_ENGINE"] == "" and before["RAG_EMBEDDING_MODEL"]
    changed = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]), json={
        "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": "nomic-fake:latest",
        "ollama_config": {"url": fake_ollama.url, "key": ""}}).get_json()
    assert changed["RAG_EMBEDDING_ENGINE"] == "ollama" and changed["ollama_config"]["url"] == fake_ollama.url
    job = client.get(f"/api/v1/jobs/{changed['reindex_job_id']}", headers=bearer(admin["token"])).get_json()
    assert job["kind"] == "rag.reindex" and job["queue"] == "embeddings"
    same = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]), json={
        "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": "nomic-fake:latest"}).get_json()
    assert "reindex_job_id" not in same
    bad = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]),
                      json={"RAG_EMBEDDING_ENGINE": "magic", "RAG_EMBEDDING_MODEL": "x"})
    assert bad.status_code == 422


def test_process_text_then_query_doc_finds_the_right_chunk(client, admin, embeddings):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"CHUNK_SIZE": 45, "CHUNK_OVERLAP": 0})
    indexed = client.post("/api/v1/retrieval/process/text", headers=bearer(admin["token"]),
                          json={"name": "animals", "content": ANIMALS.decode(), "collection_name": "animals-notes"})
    assert indexed.status_code == 200, indexed.get_json()
    assert indexed.get_json()["collection_name"] == "animals-notes"
    result = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]),
                         json={"collection_name": "animals-notes", "query": "where do penguins live", "k": 2})
    body = result.get_json()
    assert result.status_code == 200, body
    assert body["documents"][0][0] == "Penguins live in the cold south."
    assert len(body["documents"][0]) == 2 and body["distances"][0][0] >= body["distances"][0][1]
    assert body["metadatas"][0][0]["name"] == "animals"


def test_query_collection_over_files_with_k_and_threshold(client, admin, embeddings):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"CHUNK_SIZE": 45, "CHUNK_OVERLAP": 0})
    first = upload(client, admin["token"], ANIMALS, "animals.txt")
    second = upload(client, admin["token"], b"Volcanoes erupt molten lava.", "geology.txt")
    for f in (first, second):
        wait_processed(client, admin["token"], f["id"])
    names = [f"file-{first['id']}", f"file-{second['id']}"]
    body = query_collection(client, admin["token"], names, "molten lava volcanoes", k=2).get_json()
    assert body["documents"][0][0] == "Volcanoes erupt molten lava."
    assert body["metadatas"][0][0]["file_id"] == second["id"] and len(body["documents"][0]) == 2
    strict = query_collection(client, admin["token"], names, "molten lava volcanoes", k=4, r=0.9).get_json()
    assert strict["documents"][0] == ["Volcanoes erupt molten lava."]
    hybrid = query_collection(client, admin["token"], names, "camels humps", k=1, hybrid=True).get_json()
    assert hybrid["documents"][0] == ["Camels store fat in humps."]


def test_collections_of_others_are_forbidden(client, admin, make_user, embeddings):
    owner, other = make_user("owner@example.com"), make_user("other@example.com")
    file = upload(client, owner["token"], b"secret plans", "secret.txt", query="?process=false")
    for names in ([f"file-{file['id']}"], ["no-such-knowledge"], ["../etc"], [f"user-memory-{owner['id']}"]):
        response = query_collection(client, other["token"], names, "plans")
        assert response.status_code == 403, names
    bad = client.post("/api/v1/retrieval/query/collection", headers=bearer(other["token"]), json={"query": "x"})
    assert bad.status_code == 422 and "collection_names" in bad.get_json()["detail"]


def test_async_query_answers_202_with_the_job(client, admin, embeddings):
    client.post("/api/v1/retrieval/process/text", headers=bearer(admin["token"]),
                json={"name": "n", "content": "hello there", "collection_name": "greetings"})
    response = client.post("/api/v1/retrieval/query/doc", headers={**bearer(admin["token"]),
                                                                   "Prefer": "respond-async"},
                           json={"collection_name": "greetings", "query": "hello"})
    assert response.status_code == 202 and response.get_json()["job_id"]


def test_upstream_down_is_a_clear_502(client, admin, embeddings):
    client.post("/api/v1/retrieval/process/text", headers=bearer(admin["token"]),
                json={"name": "n", "content": "hello there", "collection_name": "greetings"})
    embeddings.behave(status=404, error="model 'nomic-fake' not found")
    response = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]),
                           json={"collection_name": "greetings", "query": "hello"})
    assert response.status_code == 404 and "not found" in response.get_json()["detail"]


def test_delete_entries_of_a_file(client, admin, embeddings):
    file = upload(client, admin["token"], ANIMALS, "animals.txt")
    wait_processed(client, admin["token"], file["id"])
    response = client.post("/api/v1/retrieval/delete", headers=bearer(admin["token"]),
                           json={"collection_name": f"file-{file['id']}", "file_id": file["id"]})
    assert response.get_json() == {"status": True}
    body = query_collection(client, admin["token"], [f"file-{file['id']}"], "zebras").get_json()
    assert body["documents"] == [[]]


def test_openai_engine_embeds_through_the_openai_wire_format(client, admin, rag_worker, openai_server):
    openai_server.reset()
    switched = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]), json={
        "RAG_EMBEDDING_ENGINE": "openai", "RAG_EMBEDDING_MODEL": "text-embedding-fake",
        "openai_config": {"url": openai_server.url, "key": FAKE_OPENAI_KEY}})
    assert switched.get_json()["openai_config"]["url"] == openai_server.url
    indexed = client.post("/api/v1/retrieval/process/text", headers=bearer(admin["token"]),
                          json={"name": "n", "content": ANIMALS.decode(), "collection_name": "animals-openai"})
    assert indexed.status_code == 200, indexed.get_json()
    result = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]),
                         json={"collection_name": "animals-openai", "query": "camels humps fat", "k": 1}).get_json()
    assert "Camels store fat in humps." in result["documents"][0][0], result
    sent = openai_server.received("/v1/embeddings")
    assert sent and sent[-1].headers["Authorization"] == f"Bearer {FAKE_OPENAI_KEY}"
    assert sent[-1].body["model"] == "text-embedding-fake"


def test_files_batch_adds_the_texts_sent_and_reports_each_file(client, admin, make_user, embeddings):
    token, other = admin["token"], make_user()
    kb = client.post("/api/v1/knowledge/create", headers=bearer(token), json={"name": "batch", "description": ""})
    kb_id = kb.get_json()["id"]
    mine = [upload(client, token, b"placeholder", f"f{n}.txt", query="?process=false") for n in range(3)]
    theirs = upload(client, other["token"], b"theirs", "theirs.txt", query="?process=false")

    def batch(files: list[tuple[str, str]], by: str = token):
        return client.post("/api/v1/retrieval/process/files/batch", headers=bearer(by), json={
            "collection_name": kb_id, "files": [{"id": i, "filename": "x", "data": {"content": c}} for i, c in files]})

    answer = batch([(mine[0]["id"], "Zebras have black and white stripes."),
                    (mine[1]["id"], "Penguins live in the cold south."),
                    (mine[2]["id"], "Zebras have black and white stripes."),  # the same text again
                    (theirs["id"], "Camels store fat in humps."),  # an admin may send anyone's file
                    ("no-such-file", "?")])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["results"] == [{"file_id": f["id"], "status": "completed"} for f in (mine[0], mine[1], theirs)]
    assert body["errors"] == [
        {"file_id": mine[2]["id"], "status": "failed",
         "error": "Duplicate content detected. Please provide unique content to proceed."},
        {"file_id": "no-such-file", "status": "failed", "error": "File not found"}]
    hits = query_collection(client, token, [kb_id], "penguins in the south", k=1).get_json()
    assert hits["documents"][0] == ["Penguins live in the cold south."]
    assert hits["metadatas"][0][0]["file_id"] == mine[1]["id"] and hits["metadatas"][0][0]["name"] == "f1.txt"
    stored = client.get(f"/api/v1/files/{mine[1]['id']}/data/content", headers=bearer(token)).get_json()
    assert stored == {"content": "Penguins live in the cold south."}  # the file's text is what was sent

    assert batch([(theirs["id"], "x")], by=other["token"]).status_code == 403  # not a collection they may write
    own = client.post("/api/v1/retrieval/process/files/batch", headers=bearer(other["token"]), json={
        "collection_name": f"file-{theirs['id']}", "files": [{"id": mine[0]["id"], "data": {"content": "y"}}]})
    assert own.get_json() == {"results": [], "errors": [
        {"file_id": mine[0]["id"], "status": "failed", "error": "Permission denied: not file owner"}]}
    assert client.post("/api/v1/retrieval/process/files/batch", headers=bearer(token),
                       json={"collection_name": kb_id, "files": []}).status_code == 422
