"""The web app's own calls to the helper generators (``/api/v1/tasks/<task>/completions``: title, tags,
follow-ups, queries, image prompt, autocomplete, emoji, MoA): the task's prompt, answered by the model through a
job, as an OpenAI completion (MoA: streamed chunks)."""
from __future__ import annotations

import json

import requests

from tests.e2e.gateway_stack import LLAMA, post, sse_frames
from tests.e2e.gateway_stack import fake_ollama, ollama_server, openai_server, stack  # noqa: F401
from tests.helpers import bearer

CONVERSATION = [{"role": "user", "content": "How do I boil pasta?"},
                {"role": "assistant", "content": "Salt the water and cook it for ten minutes."}]


def test_each_task_sends_its_prompt_over_the_conversation_and_answers_the_completion(stack, admin, fake_ollama):
    headers = bearer(admin["token"])
    assert requests.get(f"{stack.url}/api/models", headers=headers, timeout=30).ok
    for task, words in (("title", "title"), ("tags", "tags"), ("follow_up", "next")):
        response = post(stack, f"/api/v1/tasks/{task}/completions", headers,
                        {"model": LLAMA, "messages": CONVERSATION, "chat_id": "c1"})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"]
        prompt = fake_ollama.received("/api/chat")[-1].body["messages"][0]["content"]
        assert "How do I boil pasta?" in prompt and words in prompt.lower()


def test_a_task_switched_off_answers_200_saying_so_and_an_unknown_model_404(stack, admin, fake_ollama):
    headers = bearer(admin["token"])
    assert requests.post(f"{stack.url}/api/v1/tasks/config/update", headers=headers,
                         json={"ENABLE_TAGS_GENERATION": False}, timeout=30).ok
    off = post(stack, "/api/v1/tasks/tags/completions", headers, {"model": LLAMA, "messages": CONVERSATION})
    assert off.status_code == 200 and off.json() == {"detail": "Tags generation is disabled"}
    assert not fake_ollama.received("/api/chat")
    unknown = post(stack, "/api/v1/tasks/title/completions", headers, {"model": "nope", "messages": CONVERSATION})
    assert unknown.status_code == 404
    assert post(stack, "/api/v1/tasks/title/completions", headers, {"messages": CONVERSATION}).status_code == 422


def test_generators_send_open_webui_s_prompts_and_answer_the_completion(stack, admin, fake_ollama):
    headers = bearer(admin["token"])
    assert requests.post(f"{stack.url}/api/v1/tasks/config/update", headers=headers,
                         json={"ENABLE_AUTOCOMPLETE_GENERATION": True}, timeout=30).ok
    chat = {"model": LLAMA, "messages": CONVERSATION, "chat_id": "c1"}
    for path, body, words in (
        ("queries", {**chat, "type": "web_search"}, 'Strictly return in JSON format: \n{\n  "queries"'),
        ("image_prompt", chat, "Generate a detailed prompt for am image generation task"),
        ("auto", {**chat, "prompt": "How long", "type": "General"}, "<type>General</type>  \n<text>How long</text>"),
        ("emoji", {"model": LLAMA, "prompt": "I passed!"}, "Message: ```I passed!```"),
    ):
        response = post(stack, f"/api/v1/tasks/{path}/completions", headers, body)
        assert response.status_code == 200, (path, response.text)
        answer = response.json()
        assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["content"], path
        received = fake_ollama.received("/api/chat")[-1].body
        assert words in received["messages"][0]["content"], path
    assert received["options"]["num_predict"] == 4  # the emoji's four tokens
    assert answer["choices"][0]["message"]["content"] == "w0 w1 w2 w3"


def test_moa_streams_the_merged_answer_as_openai_chunks(stack, admin, fake_ollama):
    response = post(stack, "/api/v1/tasks/moa/completions", bearer(admin["token"]),
                    {"model": LLAMA, "prompt": "Best pasta?", "responses": ["Penne", "Fusilli"], "stream": True})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    frames = sse_frames(response)
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk["choices"])
    prompt = fake_ollama.received("/api/chat")[-1].body["messages"][0]["content"]
    assert 'the latest user query: "Best pasta?"' in prompt and '"""Penne"""\n\n"""Fusilli"""' in prompt


def test_a_generator_switched_off_is_refused_before_any_upstream_call(stack, admin, fake_ollama):
    headers = bearer(admin["token"])
    off = post(stack, "/api/v1/tasks/auto/completions", headers, {"model": LLAMA, "prompt": "How long"})
    assert off.status_code == 400 and off.json() == {"detail": "Autocompletion generation is disabled"}
    assert requests.post(f"{stack.url}/api/v1/tasks/config/update", headers=headers,
                         json={"ENABLE_RETRIEVAL_QUERY_GENERATION": False}, timeout=30).ok
    off = post(stack, "/api/v1/tasks/queries/completions", headers,
               {"model": LLAMA, "messages": CONVERSATION, "type": "retrieval"})
    assert off.status_code == 400 and off.json() == {"detail": "Query generation is disabled"}
    assert not fake_ollama.received("/api/chat")
    assert post(stack, "/api/v1/tasks/emoji/completions", headers, {"model": LLAMA}).status_code == 422
