"""RAG end to end on a live Switchyard (gunicorn web, a real worker, PostgreSQL, Redis, fake Ollama):
upload a PDF and a DOCX made here, follow their processing on the event stream, query them, and ask a
chat question over a knowledge base that holds them."""
from __future__ import annotations

import io
import json
import uuid

import docx
import pytest
import requests
from fpdf import FPDF

from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.socket_client import Browser

LLAMA = "llama-fake:latest"
PDF_FACTS = [
    "Glaciers carve deep valleys over thousands of years.",
    "Coral reefs shelter a quarter of marine species.",
    "Desert dunes migrate with the prevailing wind.",
]
DOCX_FACTS = [
    "The quarterly budget review happens every March.",
    "Espresso machines need descaling once a month.",
    "Badge access to the server room requires approval.",
]


def make_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for fact in PDF_FACTS:
        pdf.add_page()
        pdf.multi_cell(0, 10, fact)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    for fact in DOCX_FACTS:
        document.add_paragraph(fact)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def api(stack, admin, fake_ollama):
    """A requests session against the live server, with embeddings on the gateway's Ollama connection."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {admin['token']}"
    base = stack.url
    for path, body in (
        ("/api/v1/retrieval/embedding/update", {"RAG_EMBEDDING_ENGINE": "ollama",
                                                "RAG_EMBEDDING_MODEL": "nomic-fake:latest"}),
        ("/api/v1/retrieval/config/update", {"CHUNK_SIZE": 80, "CHUNK_OVERLAP": 0}),
    ):
        assert session.post(base + path, json=body, timeout=10).status_code == 200
    session.base = base
    yield session
    session.close()


def upload_and_follow(api, data: bytes, name: str, content_type: str) -> tuple[dict, list[dict]]:
    response = api.post(api.base + "/api/v1/files/", files={"file": (name, data, content_type)}, timeout=10)
    assert response.status_code == 200, response.text
    file = response.json()
    with api.get(f"{api.base}/api/v1/files/{file['id']}/process/status?stream=true", stream=True,
                 timeout=60) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in stream.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    return file, events


def test_pdf_and_docx_are_processed_and_queried(api):
    pdf, pdf_events = upload_and_follow(api, make_pdf(), "nature.pdf", "application/pdf")
    doc, doc_events = upload_and_follow(
        api, make_docx(), "office.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert pdf_events[-1] == {"status": "completed"} and doc_events[-1] == {"status": "completed"}

    text = api.get(f"{api.base}/api/v1/files/{pdf['id']}/data/content", timeout=10).json()["content"]
    assert all(fact in text for fact in PDF_FACTS)

    names = [f"file-{pdf['id']}", f"file-{doc['id']}"]
    for query, expected in (("coral reefs marine species", PDF_FACTS[1]),
                            ("espresso machines descaling", DOCX_FACTS[1]),
                            ("glaciers carve valleys", PDF_FACTS[0])):
        result = api.post(f"{api.base}/api/v1/retrieval/query/collection", timeout=30,
                          json={"collection_names": names, "query": query, "k": 3}).json()
        assert result["documents"][0][0] == expected, (query, result["documents"])


def test_chat_over_a_knowledge_base_uses_the_chunk_and_reports_sources(api, fake_ollama):
    kb = api.post(f"{api.base}/api/v1/knowledge/create", json={"name": "Office", "description": ""}, timeout=10).json()
    doc, events = upload_and_follow(
        api, make_docx(), "office.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert events[-1]["status"] == "completed"
    added = api.post(f"{api.base}/api/v1/knowledge/{kb['id']}/file/add", json={"file_id": doc["id"]}, timeout=10)
    assert added.status_code == 200

    question = "How often do espresso machines need descaling?"
    body = {"model": LLAMA, "messages": [{"role": "user", "content": question}],
            "files": [{"type": "collection", "id": kb["id"], "name": "Office"}]}
    answer = api.post(f"{api.base}/api/chat/completions", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    prompt = fake_ollama.received("/api/chat")[-1].body["messages"][-1]["content"]
    assert DOCX_FACTS[1] in prompt and "<source id=\"1\"" in prompt and prompt.rstrip().endswith(question)
    assert "### Task:" in prompt
    assert reply["sources"][0]["source"] == {"id": kb["id"], "name": "Office", "type": "collection"}
    assert reply["sources"][0]["document"][0] == DOCX_FACTS[1]

    with api.post(f"{api.base}/api/chat/completions", json={**body, "stream": True}, stream=True, timeout=60) as s:
        lines = [line for line in s.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    first = json.loads(lines[0][6:])
    assert first["sources"][0]["document"][0] == DOCX_FACTS[1] and lines[-1] == "data: [DONE]"

    # a knowledge base the caller cannot read is skipped, not leaked
    fake_ollama.reset()
    api.post(f"{api.base}/api/chat/completions", timeout=60, json={
        **body, "files": [{"type": "collection", "id": "not-a-knowledge-base"}]})
    assert DOCX_FACTS[1] not in fake_ollama.received("/api/chat")[-1].body["messages"][-1]["content"]


def test_chat_with_memory_adds_the_user_context(api, fake_ollama):
    for content in ("My dog is called Biscuit", "I prefer answers in French"):
        assert api.post(f"{api.base}/api/v1/memories/add", json={"content": content}, timeout=10).status_code == 200
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "What is my dog called?"}],
            "features": {"memory": True}}
    found = False
    for _ in range(100):  # the memory-indexing jobs run in the background: bounded wait for them
        fake_ollama.reset()
        assert api.post(f"{api.base}/api/chat/completions", json=body, timeout=60).status_code == 200
        system = fake_ollama.received("/api/chat")[-1].body["messages"][0]
        if system["role"] == "system" and "Biscuit" in system["content"]:
            found = True
            break
    assert found
    assert system["content"].startswith("User Context:\n1. [")
    without = {**body, "features": {}}
    fake_ollama.reset()
    api.post(f"{api.base}/api/chat/completions", json=without, timeout=60)
    assert fake_ollama.received("/api/chat")[-1].body["messages"][0]["role"] == "user"


def test_web_app_chat_gets_the_sources_over_socketio_and_in_the_saved_reply(stack, api, admin, fake_ollama):
    kb = api.post(f"{api.base}/api/v1/knowledge/create", json={"name": "Office", "description": ""}, timeout=10).json()
    doc, _ = upload_and_follow(
        api, make_docx(), "office.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    api.post(f"{api.base}/api/v1/knowledge/{kb['id']}/file/add", json={"file_id": doc["id"]}, timeout=10)
    browser = Browser(stack.url, admin["token"])
    try:
        reply_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        body = {"stream": True, "model": LLAMA, "messages": [], "session_id": browser.client.sid, "id": reply_id,
                "parent_id": None, "files": [{"type": "collection", "id": kb["id"], "name": "Office"}],
                "user_message": {"id": user_id, "parentId": None, "childrenIds": [], "role": "user",
                                 "content": "Who approves badge access to the server room?",
                                 "timestamp": 1700000000, "models": [LLAMA]}}
        started = api.post(f"{api.base}/api/chat/completions", json=body, timeout=30).json()
        events = browser.wait_until(lambda ev: any(e["data"]["type"] == "chat:completion"
                                                   and e["data"]["data"].get("done") for e in ev), timeout=30)
        payloads = [e["data"]["data"] for e in events if e["data"]["type"] == "chat:completion"]
        with_sources = [p for p in payloads if "sources" in p]
        assert with_sources and with_sources[0]["sources"][0]["document"][0] == DOCX_FACTS[2]
        assert payloads.index(with_sources[0]) < payloads.index(next(p for p in payloads if "content" in p))
        chat = api.get(f"{api.base}/api/v1/chats/{started['chat_id']}", timeout=10).json()
        saved = chat["chat"]["history"]["messages"][reply_id]
        assert saved["sources"][0]["source"]["id"] == kb["id"]
    finally:
        browser.close()


def test_a_custom_model_calls_its_base_with_its_system_prompt_params_and_knowledge(api, admin, fake_ollama):
    kb = api.post(f"{api.base}/api/v1/knowledge/create", json={"name": "Office", "description": ""}, timeout=10).json()
    doc, _ = upload_and_follow(
        api, make_docx(), "office.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    api.post(f"{api.base}/api/v1/knowledge/{kb['id']}/file/add", json={"file_id": doc["id"]}, timeout=10)
    made = api.post(f"{api.base}/api/v1/models/create", timeout=10, json={
        "id": "office-helper", "base_model_id": LLAMA, "name": "Office helper",
        "params": {"system": "You help {{USER_NAME}} at the office.", "temperature": 0.1, "max_tokens": 7},
        "meta": {"knowledge": [{**kb, "type": "collection"}]}})
    assert made.status_code == 200, made.text

    question = "How often do espresso machines need descaling?"
    answer = api.post(f"{api.base}/api/chat/completions", timeout=60, json={
        "model": "office-helper", "messages": [{"role": "user", "content": question}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == "office-helper"
    assert answer.json()["sources"][0]["source"]["id"] == kb["id"]
    sent = fake_ollama.received("/api/chat")[-1].body
    assert sent["model"] == LLAMA and sent["options"] == {"temperature": 0.1, "num_predict": 7}
    assert sent["messages"][0] == {"role": "system", "content": f"You help {admin['name']} at the office."}
    assert DOCX_FACTS[1] in sent["messages"][-1]["content"]

    # the request's own values win over the model's
    api.post(f"{api.base}/api/chat/completions", timeout=60, json={
        "model": "office-helper", "temperature": 0.9, "messages": [{"role": "user", "content": "hi"}]})
    assert fake_ollama.received("/api/chat")[-1].body["options"]["temperature"] == 0.9
