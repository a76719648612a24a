"""``/api/v1/retrieval/reset/db``: a job that empties the vector store (with progress) and removes knowledge bases;
deleting a file removes its vectors from every collection."""
from __future__ import annotations

import time

from shared.db import session_scope
from shared.rag.vectors import get_vector_store
from tests.fakes.fixtures import FAKE_OPENAI_KEY, openai_server  # noqa: F401
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker, upload, wait_processed  # noqa: F401


def _finished(client, token: str, job_id: str) -> dict:
    for _ in range(300):
        job = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token)).get_json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _indexed_file_in_knowledge(client, token: str) -> tuple[str, str]:
    file = upload(client, token, b"Otters hold hands while they sleep.", "otters.txt")
    wait_processed(client, token, file["id"])
    knowledge = client.post("/api/v1/knowledge/create", headers=bearer(token),
                            json={"name": "animals", "description": "d"}).get_json()
    added = client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add", headers=bearer(token),
                        json={"file_id": file["id"]})
    assert added.status_code == 200, added.get_json()
    return file["id"], knowledge["id"]


def test_reset_db_is_an_admin_job_that_empties_the_store(client, admin, make_user, embeddings):
    file_id, knowledge_id = _indexed_file_in_knowledge(client, admin["token"])
    assert client.post("/api/v1/retrieval/reset/db", headers=bearer(make_user()["token"])).status_code == 401
    started = client.post("/api/v1/retrieval/reset/db", headers=bearer(admin["token"]))
    assert started.status_code == 202 and started.headers["Location"].endswith(started.get_json()["job_id"])
    job = _finished(client, admin["token"], started.get_json()["job_id"])
    assert job["status"] == "succeeded" and job["result"]["removed"] >= 2 and job["kind"] == "rag.reset"
    with session_scope() as session:
        assert get_vector_store().collections(session) == []
    assert client.get(f"/api/v1/knowledge/{knowledge_id}", headers=bearer(admin["token"])).status_code == 404


def test_deleting_a_file_removes_its_vectors_everywhere(client, admin, embeddings):
    file_id, knowledge_id = _indexed_file_in_knowledge(client, admin["token"])
    with session_scope() as session:
        assert get_vector_store().count(session, knowledge_id) >= 1
    assert client.delete(f"/api/v1/files/{file_id}", headers=bearer(admin["token"])).status_code == 200
    with session_scope() as session:
        store = get_vector_store()
        assert store.count(session, knowledge_id) == store.count(session, f"file-{file_id}") == 0
