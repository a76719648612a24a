"""The official ``openai`` and ``ollama`` client libraries against a live Switchyard (gunicorn web, a real
worker, Redis, PostgreSQL) in front of the fake upstreams: web -> Redis -> worker -> fake -> back."""
from __future__ import annotations

import json

import ollama
import openai
import pytest
import requests

from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401

LLAMA = "llama-fake:latest"


@pytest.fixture
def token(admin) -> str:
    return admin["token"]


def openai_client(stack, token: str, prefix: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}{prefix}", api_key=token, max_retries=0, timeout=30)


def ollama_client(stack, token: str) -> ollama.Client:
    return ollama.Client(host=f"{stack.url}/ollama", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_unified_chat_with_an_ollama_model(stack, token, fake_ollama):
    client = openai_client(stack, token, "/api")
    answer = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "hello there"}], temperature=0.2, max_tokens=5)
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.content == "w0 w1 w2 w3 w4"
    assert answer.usage.completion_tokens == 5
    sent = fake_ollama.received("/api/chat")[-1].body
    assert sent["model"] == LLAMA and sent["stream"] is False
    assert sent["options"] == {"temperature": 0.2, "num_predict": 5}

    chunks = list(client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "stream me"}], stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: stream me"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1


def test_unified_chat_with_an_openai_model(stack, token, fake_openai):
    client = openai_client(stack, token, "/api")
    answer = client.chat.completions.create(model="gpt-fake", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "You said: hi"
    request = fake_openai.received("/v1/chat/completions")[-1]
    assert request.headers["Authorization"] == "Bearer sk-fake"

    stream = client.chat.completions.create(model="gpt-fake", messages=[{"role": "user", "content": "a b c"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: a b c"
    assert chunks[-1].usage.completion_tokens == 5


def test_model_list_through_the_openai_client(stack, token):
    models = {m.id: m for m in openai_client(stack, token, "/api").models.list()}
    assert {"gpt-fake", "gpt-fake-mini", LLAMA, "qwen-fake:0.5b"} <= set(models)
    llama, qwen = models[LLAMA].model_dump(), models["qwen-fake:0.5b"].model_dump()
    assert llama["owned_by"] == "ollama" and llama["urls"] == [0] and llama["connection_type"] == "local"
    assert llama["loaded"] is True and llama["ollama"]["expires_at"] == 4070908800  # in /api/ps
    assert qwen["loaded"] is False and qwen["ollama"]["details"]["parameter_size"] == "8.0B"
    gpt = models["gpt-fake"].model_dump()
    assert gpt["owned_by"] == "openai" and gpt["urlIdx"] == 0 and gpt["connection_type"] == "external"


def test_refresh_true_gathers_the_models_again(stack, token, fake_ollama):
    client = openai_client(stack, token, "/api")
    assert "new-fake:1b" not in {m.id for m in client.models.list()}
    fake_ollama.models["new-fake:1b"] = {**fake_ollama.models[LLAMA], "name": "new-fake:1b", "model": "new-fake:1b"}
    try:
        assert "new-fake:1b" not in {m.id for m in client.models.list()}  # still the cached list
        assert "new-fake:1b" in {m.id for m in client.models.list(extra_query={"refresh": "true"})}
    finally:
        del fake_ollama.models["new-fake:1b"]


def test_openai_proxy(stack, token, fake_openai):
    for prefix in ("/openai", "/openai/v1"):
        client = openai_client(stack, token, prefix)
        assert {m.id for m in client.models.list()} == {"gpt-fake", "gpt-fake-mini"}
        answer = client.chat.completions.create(model="gpt-fake-mini", messages=[{"role": "user", "content": "x"}])
        assert answer.choices[0].message.content == "You said: x" and answer.usage.total_tokens > 0
        text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "y z"}], max_tokens=7, stream=True) if c.choices)
        assert text == "w0 w1 w2 w3 w4 w5 w6"
        vectors = client.embeddings.create(model="gpt-fake", input=["one two", "three"])
        assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 16


def test_unified_embeddings(stack, token, fake_ollama):
    client = openai_client(stack, token, "/api")
    ollama_vectors = client.embeddings.create(model="nomic-fake:latest", input=["red apple", "green"])
    openai_vectors = client.embeddings.create(model="gpt-fake", input=["red apple", "green"])
    assert [d.embedding for d in ollama_vectors.data] == [d.embedding for d in openai_vectors.data]
    assert fake_ollama.received("/api/embed")[-1].body == {"model": "nomic-fake:latest", "input": ["red apple", "green"]}


def test_ollama_client(stack, token, fake_ollama):
    client = ollama_client(stack, token)
    assert {m.model for m in client.list().models} >= {LLAMA, "qwen-fake:0.5b"}
    assert client.show(LLAMA).details.family == "llama"

    parts = list(client.chat(model=LLAMA, messages=[{"role": "user", "content": "token by token"}], stream=True))
    assert [p.message.content for p in parts] == ["You", " said:", " token", " by", " token", ""]
    assert parts[-1].done and parts[-1].eval_count == 5 and parts[-1].total_duration > 0

    whole = client.chat(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    assert whole.message.content == "You said: hi" and whole.done
    assert client.generate(model=LLAMA, prompt="p", options={"num_predict": 3}).response == "w0 w1 w2"
    assert "".join(p.response for p in client.generate(model=LLAMA, prompt="a b", stream=True)) == "You said: a b"

    assert len(client.embed(model="nomic-fake:latest", input=["a", "b c"]).embeddings) == 2
    assert len(client.embeddings(model="nomic-fake:latest", prompt="a").embedding) == 16


def test_ollama_pull_streams_progress_and_delete(stack, token, fake_ollama):
    client = ollama_client(stack, token)
    statuses = [p.status for p in client.pull("tiny-fake", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert "tiny-fake:latest" in fake_ollama.models
    assert fake_ollama.received("/api/pull")[-1].body["model"] == "tiny-fake"

    client.delete("qwen-fake:0.5b")
    assert "qwen-fake:0.5b" not in fake_ollama.models
    fake_ollama.models["qwen-fake:0.5b"] = {**fake_ollama.models[LLAMA], "name": "qwen-fake:0.5b",
                                            "model": "qwen-fake:0.5b"}


def test_upstream_errors_reach_the_clients(stack, token, fake_ollama, fake_openai):
    openai_client(stack, token, "/api").models.list()  # the registry is filled before the upstreams fail
    fake_openai.behave(status=400, error="This model's maximum context length is 8 tokens.")
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(stack, token, "/openai").chat.completions.create(
            model="gpt-fake", messages=[{"role": "user", "content": "x"}])
    assert "maximum context length" in str(caught.value)

    fake_ollama.behave(drop_after=2)
    with pytest.raises(ollama.ResponseError) as dropped:
        list(ollama_client(stack, token).chat(model=LLAMA, messages=[{"role": "user", "content": "a b c"}],
                                              stream=True))
    assert "broke off" in str(dropped.value)


def test_an_arena_model_answers_with_one_of_its_models_and_says_which(stack, token, fake_ollama, fake_openai):
    arena = {"id": "duel", "name": "Duel", "meta": {"model_ids": [LLAMA, "gpt-fake"]}}
    configured = requests.post(f"{stack.url}/api/v1/evaluations/config", headers={"Authorization": f"Bearer {token}"},
                               json={"EVALUATION_ARENA_MODELS": [arena]}, timeout=30)
    assert configured.status_code == 200
    client = openai_client(stack, token, "/api")
    picks = set()
    for _ in range(12):
        answer = client.chat.completions.create(model="duel", messages=[{"role": "user", "content": "hi"}])
        picks.add(answer.model_extra["selected_model_id"])
    assert picks == {LLAMA, "gpt-fake"}  # both picked in 12 turns (a miss has odds 2 in 4096)

    with requests.post(f"{stack.url}/api/chat/completions", headers={"Authorization": f"Bearer {token}"},
                       json={"model": "duel", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
                       stream=True, timeout=30) as streamed:
        frames = [line for line in streamed.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    first = json.loads(frames[0][len("data: "):])
    assert first["selected_model_id"] in (LLAMA, "gpt-fake") and frames[-1] == "data: [DONE]"
