"""The web app's own calls for a title, tags and follow-ups (``/api/v1/tasks/<task>/completions``): the task's
prompt over the conversation, answered by the task model through a job, as an OpenAI completion."""
from __future__ import annotations

import requests

from tests.e2e.gateway_stack import LLAMA, post
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
