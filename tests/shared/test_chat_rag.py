"""Retrieval for chat completions (``shared.services.chats.rag_context``), in-process with the fake Ollama embeddings."""
from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.models import File
from shared.rag import config as rag_config
from shared.rag.indexing import file_chunks, store_chunks
from shared.services.chats import rag_context
from tests.rag_support import fake_ollama  # noqa: F401

FACTS = "The library closes at eight.\n\nThe gym opens at six."


@pytest.fixture
def indexed(admin, make_user, fake_ollama):
    """An admin's file, chunked and embedded into its collection; and a second user."""
    other = make_user()
    with session_scope() as session:
        rag_config.update_embedding_config(session, {"RAG_EMBEDDING_ENGINE": "ollama",
                                                     "RAG_EMBEDDING_MODEL": "nomic-fake:latest",
                                                     "ollama_config": {"url": fake_ollama.url, "key": ""}})
        rag_config.update_rag_config(session, {"CHUNK_SIZE": 30, "CHUNK_OVERLAP": 0})
        file = File(user_id=admin["id"], filename="hours.txt", meta={"name": "hours.txt"}, data={})
        session.add(file)
        session.flush()
        store_chunks(session, file_chunks(session, file, FACTS), [f"file-{file.id}"], file_id=file.id)
        file_id = file.id
    return file_id, other


def ask(user_id: str, items: list[dict], question: str = "when does the gym open"):
    with session_scope() as session:
        return rag_context.apply(session, user_id, [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": question}], {"files": items})


def test_rag_request_reads_what_the_web_app_sends():
    assert rag_context.rag_request({"messages": []}) is None
    asked = rag_context.rag_request({"files": [{"type": "file", "id": "f1", "file": {"huge": "blob"}}],
                                  "features": {"memory": True}})
    assert asked == {"files": [{"type": "file", "id": "f1"}], "memory": True}
    assert rag_context.rag_request({"metadata": {"files": [{"type": "collection", "id": "k"}]}})["files"] == [
        {"type": "collection", "id": "k"}]


def test_a_file_item_puts_the_matching_chunk_into_the_prompt(admin, indexed):
    file_id, _ = indexed
    messages, sources = ask(admin["id"], [{"type": "file", "id": file_id}])
    assert messages[0] == {"role": "system", "content": "Be brief."}
    prompt = messages[-1]["content"]
    assert prompt.startswith("### Task:") and prompt.endswith("\nwhen does the gym open")
    assert '<source id="1" name="hours.txt">The gym opens at six.</source>' in prompt
    assert sources[0]["source"] == {"id": file_id, "name": "hours.txt", "type": "file"}
    assert sources[0]["document"][0] == "The gym opens at six."


def test_legacy_doc_items_name_their_collection(admin, indexed):
    file_id, _ = indexed
    _, sources = ask(admin["id"], [{"type": "doc", "collection_name": f"file-{file_id}", "name": "Hours"}])
    assert sources[0]["source"]["name"] == "Hours" and sources[0]["document"][0] == "The gym opens at six."


def test_items_the_user_cannot_read_are_skipped(indexed):
    file_id, other = indexed
    for item in ({"type": "file", "id": file_id}, {"type": "doc", "collection_name": f"file-{file_id}"},
                 {"type": "collection", "id": "missing"}, {"type": "web"}):
        messages, sources = ask(other["id"], [item])
        assert sources == [] and messages[-1]["content"] == "when does the gym open"


def test_unknown_user_changes_nothing():
    messages, sources = ask("no-such-user", [{"type": "file", "id": "x"}])
    assert sources == [] and messages[-1]["content"] == "when does the gym open"
