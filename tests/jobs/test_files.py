"""The file pipeline on a real worker: extract → chunk → embed (fake Ollama) → store, and its failures."""
from __future__ import annotations

import io
import zipfile

import docx
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Chunk, File, Job
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker, upload, wait_processed  # noqa: F401

PARAGRAPHS = "\n\n".join(
    f"Paragraph {i} talks about topic{i} and nothing else. " + "filler words " * 30 for i in range(12)
)


def chunk_count(file_id: str, collection: str | None = None) -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(Chunk).where(Chunk.file_id == file_id)
        if collection:
            query = query.where(Chunk.collection == collection)
        return session.scalar(query)


def test_text_file_is_extracted_chunked_embedded_and_stored(client, admin, embeddings):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"CHUNK_SIZE": 400, "CHUNK_OVERLAP": 40})
    file = upload(client, admin["token"], PARAGRAPHS.encode(), "topics.txt")
    events = wait_processed(client, admin["token"], file["id"])
    assert events[-1] == {"status": "completed"}

    content = client.get(f"/api/v1/files/{file['id']}/data/content", headers=bearer(admin["token"])).get_json()
    assert content["content"].startswith("Paragraph 0 talks about topic0")
    stored = chunk_count(file["id"], f"file-{file['id']}")
    assert stored >= len(PARAGRAPHS) // 400
    embed_calls = embeddings.received("/api/embed")
    assert embed_calls and all(len(call.body["input"]) <= 8 for call in embed_calls)  # batches of 8
    assert sum(len(call.body["input"]) for call in embed_calls) == stored

    with session_scope() as session:
        jobs = {j.kind: j for j in session.scalars(select(Job).where(Job.related_id == file["id"]))}
    assert jobs["file.process"].queue == "files" and jobs["file.process"].status == "succeeded"
    assert jobs["file.embed"].queue == "embeddings" and jobs["file.embed"].result["chunks"] == stored
    with session_scope() as session:  # the jobs' writes to the file's data all landed: none undid another
        data = session.get(File, file["id"]).data
    assert data["job_id"] == jobs["file.embed"].id and data["content"] == content["content"]


def test_reprocessing_replaces_the_chunks(client, admin, embeddings):
    file = upload(client, admin["token"], PARAGRAPHS.encode(), "topics.txt")
    wait_processed(client, admin["token"], file["id"])
    before = chunk_count(file["id"])
    response = client.post(f"/api/v1/files/{file['id']}/data/content/update", headers=bearer(admin["token"]),
                           json={"content": "A single short replacement text about zebras."})
    assert response.status_code == 200
    assert wait_processed(client, admin["token"], file["id"])[-1]["status"] == "completed"
    with session_scope() as session:
        texts = list(session.scalars(select(Chunk.text).where(Chunk.file_id == file["id"])))
    assert before > 1 and texts == ["A single short replacement text about zebras."]


def test_html_is_indexed_without_scripts(client, admin, embeddings):
    html = b"<html><head><script>steal()</script><style>p{}</style></head><body><p>Visible words</p></body></html>"
    file = upload(client, admin["token"], html, "page.html", "text/html")
    wait_processed(client, admin["token"], file["id"])
    content = client.get(f"/api/v1/files/{file['id']}/data/content", headers=bearer(admin["token"])).get_json()
    assert content["content"] == "Visible words"


def test_unsupported_type_is_stored_but_marked_not_indexable(client, admin, embeddings):
    file = upload(client, admin["token"], b"\x89PNG\r\n\x1a\nrest", "image.png", "image/png")
    final = wait_processed(client, admin["token"], file["id"])[-1]
    assert final["status"] == "failed" and "not indexable" in final["error"]
    got = client.get(f"/api/v1/files/{file['id']}", headers=bearer(admin["token"])).get_json()
    assert got["data"]["indexable"] is False
    assert client.get(f"/api/v1/files/{file['id']}/content", headers=bearer(admin["token"])).status_code == 200


def test_broken_pdf_fails_with_the_reason(client, admin, embeddings):
    file = upload(client, admin["token"], b"%PDF-1.4 this is not really a pdf", "broken.pdf", "application/pdf")
    final = wait_processed(client, admin["token"], file["id"])[-1]
    assert final["status"] == "failed" and "PDF" in final["error"]
    assert chunk_count(file["id"]) == 0


def zip_bomb_docx(inflated_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A real DOCX whose document part is replaced by one that inflates to ``inflated_bytes`` (the upload is
    a few dozen kilobytes)."""
    made = io.BytesIO()
    docx.Document().save(made)
    bomb = io.BytesIO()
    paragraph = b"<w:p><w:r><w:t>" + b"bomb " * 2000 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(made) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in original.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, original.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                       b'wordprocessingml/2006/main"><w:body>')
            for _ in range(inflated_bytes // len(paragraph)):
                part.write(paragraph)
            part.write(b"</w:body></w:document>")
    return bomb.getvalue()


def test_a_zip_bomb_docx_fails_with_the_reason_and_the_worker_serves_on(client, admin, embeddings):
    bomb = zip_bomb_docx()
    assert len(bomb) < 1024 * 1024
    file = upload(client, admin["token"], bomb, "bomb.docx",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    final = wait_processed(client, admin["token"], file["id"])[-1]
    assert final["status"] == "failed" and "zip bomb" in final["error"] and "word/document.xml" in final["error"]
    assert chunk_count(file["id"]) == 0
    after = upload(client, admin["token"], b"served after the bomb", "after.txt")
    assert wait_processed(client, admin["token"], after["id"])[-1]["status"] == "completed"
    assert chunk_count(after["id"]) == 1


def test_upstream_refusal_marks_the_file_failed(client, admin, embeddings):
    embeddings.behave(status=400, error="model 'nomic-fake' does not support embeddings")
    file = upload(client, admin["token"], b"some text to embed", "a.txt")
    final = wait_processed(client, admin["token"], file["id"])[-1]
    assert final["status"] == "failed" and "does not support embeddings" in final["error"]
    assert chunk_count(file["id"]) == 0


def _jobs_of(file_id: str) -> dict[str, Job]:
    with session_scope() as session:
        return {j.kind: j for j in session.scalars(select(Job).where(Job.related_id == file_id))}


def test_embedding_reports_progress_on_the_job_event_stream(client, admin, embeddings):
    from shared.jobs import events

    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"CHUNK_SIZE": 200, "CHUNK_OVERLAP": 0})
    file = upload(client, admin["token"], PARAGRAPHS.encode(), "topics.txt")
    wait_processed(client, admin["token"], file["id"])
    embed_job = _jobs_of(file["id"])["file.embed"]
    logged = [e for e in events.read_after(embed_job.id, None) if e.type == "progress"]
    messages = [e.data["message"] for e in logged]
    assert messages[0].endswith("chunks") and messages[-1].startswith("embedded")
    fractions = [e.data["progress"] for e in logged]
    assert fractions == sorted(fractions) and len(fractions) >= 3


def test_a_transient_upstream_failure_is_retried(client, admin, embeddings):
    embeddings.behave(status=503, error="overloaded", fail_times=1)
    file = upload(client, admin["token"], b"retry me please", "r.txt")
    assert wait_processed(client, admin["token"], file["id"])[-1] == {"status": "completed"}
    assert _jobs_of(file["id"])["file.embed"].attempts >= 2
    assert chunk_count(file["id"]) == 1


def test_changing_the_embedding_model_reindexes_everything(client, admin, embeddings):
    file = upload(client, admin["token"], PARAGRAPHS.encode(), "topics.txt")
    wait_processed(client, admin["token"], file["id"])
    before = chunk_count(file["id"])
    embeddings.reset()
    changed = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]), json={
        "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": "llama-fake:latest"}).get_json()
    response = client.get(f"/api/v1/jobs/{changed['reindex_job_id']}/events", headers=bearer(admin["token"]))
    assert '"status": "succeeded"' in response.get_data(as_text=True)
    calls = embeddings.received("/api/embed")
    assert calls and {c.body["model"] for c in calls} == {"llama-fake:latest"}
    assert chunk_count(file["id"]) == before
