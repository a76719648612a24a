"""Shared pieces of the RAG tests: the fake Ollama for embeddings, a worker, uploads and waiting for processing."""
from __future__ import annotations

import io
import json

import pytest

from tests.fakes.ollama import FakeOllama
from tests.helpers import bearer
from tests.jobs.test_lifecycle import finish
from tests.jobs.worker import running_worker

EMBEDDING_MODEL = "nomic-fake:latest"


@pytest.fixture(scope="session")
def fake_ollama():
    fake = FakeOllama().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def rag_worker(database):
    with running_worker(threads=4, modules=()) as process:
        yield process


@pytest.fixture
def embeddings(client, admin, fake_ollama, rag_worker):
    """Embeddings through the fake Ollama (set by the admin API, as an operator would)."""
    fake_ollama.reset()
    response = client.post("/api/v1/retrieval/embedding/update", headers=bearer(admin["token"]), json={
        "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": EMBEDDING_MODEL, "RAG_EMBEDDING_BATCH_SIZE": 8,
        "ollama_config": {"url": fake_ollama.url, "key": ""},
    })
    assert response.status_code == 200, response.get_json()
    if response.get_json().get("reindex_job_id"):
        # Done before the test goes on: a reindex re-stores the chunks of files uploaded meanwhile.
        finish(response.get_json()["reindex_job_id"], timeout=30)
    return fake_ollama


def upload(client, token: str, data: bytes, name: str, content_type: str = "text/plain",
           query: str = "", **form) -> dict:
    response = client.post(f"/api/v1/files/{query}", headers=bearer(token), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), name, content_type), **form})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def wait_processed(client, token: str, file_id: str) -> list[dict]:
    """Follow ``/process/status?stream=true`` to its end; the events it sent, last one final."""
    response = client.get(f"/api/v1/files/{file_id}/process/status?stream=true", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = [json.loads(line[len("data: "):]) for line in response.get_data(as_text=True).splitlines()
              if line.startswith("data: ")]
    assert events and events[-1]["status"] in ("completed", "failed"), events
    return events


def query_collection(client, token: str, names: list[str], query: str, k: int = 3, **extra):
    return client.post("/api/v1/retrieval/query/collection", headers=bearer(token),
                       json={"collection_names": names, "query": query, "k": k, **extra})
