"""``/api/v1/retrieval/reset/db``: a job that empties the vector store (with progress) and removes knowledge bases;
deleting a file removes its vectors from every collection."""
from __future__ import annotations

import io
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


def test_reset_uploads_removes_every_files_bytes_and_keeps_the_rest(client, admin, make_user, embeddings):
    from shared.storage import get_storage

    token = admin["token"]
    first = upload(client, token, b"Otters hold hands while they sleep.", "otters.txt")
    wait_processed(client, token, first["id"])
    second = upload(client, make_user()["token"], b"Seals sleep in the water.", "seals.txt", query="?process=false")
    get_storage().save(io.BytesIO(b"cached speech"), "speech_kept.mp3")  # not a file: left alone
    assert client.post("/api/v1/retrieval/reset/uploads", headers=bearer(make_user("u2@example.com")["token"])
                       ).status_code == 401

    reset = client.post("/api/v1/retrieval/reset/uploads", headers=bearer(token))
    assert reset.status_code == 200 and reset.get_json() is True
    for file in (first, second):
        assert not get_storage().exists(file["path"])
        gone = client.get(f"/api/v1/files/{file['id']}/content", headers=bearer(token))
        assert gone.status_code == 404 and gone.get_json() == {"detail": "Original file is unavailable."}
    assert get_storage().exists("speech_kept.mp3")
    text = client.get(f"/api/v1/files/{first['id']}/data/content", headers=bearer(token)).get_json()
    assert text == {"content": "Otters hold hands while they sleep."}  # the row and its text stay
    hits = client.post("/api/v1/retrieval/query/doc", headers=bearer(token),
                       json={"collection_name": f"file-{first['id']}", "query": "otters", "k": 1}).get_json()
    assert hits["documents"][0] == ["Otters hold hands while they sleep."]  # and its vectors
