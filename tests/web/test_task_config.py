"""/api/v1/tasks/config: read by users, changed by admins, in Open WebUI's field names."""
from __future__ import annotations

from datetime import datetime

import pytest

from shared.db import session_scope
from shared.models import Job
from tests.helpers import bearer
from tests.web.roles import VISIBLE_MODELS, Caller, configure_models


def test_defaults(client, admin):
    config = client.get("/api/v1/tasks/config", headers=bearer(admin["token"])).get_json()
    assert config["ENABLE_TITLE_GENERATION"] is True
    assert config["ENABLE_TAGS_GENERATION"] is True and config["ENABLE_FOLLOW_UP_GENERATION"] is True
    assert config["TASK_MODEL"] == "" and config["TITLE_GENERATION_PROMPT_TEMPLATE"] == ""
    assert len(config) == 19


def test_admin_updates_users_read(client, admin, make_user):
    user = make_user()
    response = client.post("/api/v1/tasks/config/update", headers=bearer(admin["token"]),
                           json={"ENABLE_TAGS_GENERATION": False, "TASK_MODEL": "small", "unknown": 1})
    assert response.status_code == 200
    assert response.get_json()["ENABLE_TAGS_GENERATION"] is False
    seen = client.get("/api/v1/tasks/config", headers=bearer(user["token"])).get_json()
    assert seen["TASK_MODEL"] == "small" and seen["ENABLE_TITLE_GENERATION"] is True


def test_only_admins_update_and_bad_values_are_422(app, client, admin, make_user):
    user = make_user()
    assert client.post("/api/v1/tasks/config/update", headers=bearer(user["token"]),
                       json={"TASK_MODEL": "x"}).status_code == 401
    bad = client.post("/api/v1/tasks/config/update", headers=bearer(admin["token"]),
                      json={"ENABLE_TITLE_GENERATION": "maybe"})
    assert bad.status_code == 422 and "ENABLE_TITLE_GENERATION" in bad.get_json()["detail"]
    assert app.test_client().get("/api/v1/tasks/config").status_code == 401


ASYNC = {"Prefer": "respond-async"}
"""No worker runs here: the generators answer 202 with the job, whose request the tests read."""
CONVERSATION = [{"role": "user", "content": "How do I boil pasta?"},
                {"role": "assistant", "content": "Salt the water and cook it for ten minutes."}]


@pytest.fixture
def models(client, admin) -> None:
    configure_models(client, Caller(admin["id"], admin["email"], admin["role"], admin["token"]))


def sent(client, admin, path: str, body: dict) -> dict:
    """The completion request the generator's job carries."""
    response = client.post(f"/api/v1/tasks/{path}/completions", headers={**bearer(admin["token"]), **ASYNC}, json=body)
    assert response.status_code == 202, response.get_json()
    with session_scope() as session:
        return session.get(Job, response.get_json()["job_id"]).payload["body"]


def configure(client, admin, **fields) -> None:
    response = client.post("/api/v1/tasks/config/update", headers=bearer(admin["token"]), json=fields)
    assert response.status_code == 200, response.get_json()


def test_generators_send_open_webui_s_prompts_to_the_task_model(client, admin, models):
    configure(client, admin, TASK_MODEL=VISIBLE_MODELS["openai"], ENABLE_AUTOCOMPLETE_GENERATION=True)
    chat = {"model": VISIBLE_MODELS["ollama"], "messages": CONVERSATION}
    queries = sent(client, admin, "queries", {**chat, "type": "web_search"})
    assert queries["model"] == VISIBLE_MODELS["openai"] and queries["stream"] is False
    prompt = queries["messages"][0]["content"]
    assert prompt.startswith("### Task:\nAnalyze the chat history to determine the necessity of generating search")
    assert f"Today's date is: {datetime.now():%Y-%m-%d}." in prompt
    assert "<chat_history>\nUSER: How do I boil pasta?\nASSISTANT: Salt the water" in prompt
    image = sent(client, admin, "image_prompt", chat)["messages"][0]["content"]
    assert image.startswith("### Task:\nGenerate a detailed prompt for am image generation task")
    assert "USER: How do I boil pasta?" in image
    auto = sent(client, admin, "auto", {**chat, "prompt": "How long do I", "type": "General"})
    assert "</chat_history>\n<type>General</type>  \n<text>How long do I</text>  \n#### Output:\n" in \
        auto["messages"][0]["content"]
    emoji = sent(client, admin, "emoji", {"model": VISIBLE_MODELS["ollama"], "prompt": "I passed!"})
    assert emoji["max_tokens"] == 4 and emoji["model"] == VISIBLE_MODELS["openai"]
    assert emoji["messages"][0]["content"].endswith("(e.g., 😊, 😢, 😡, 😱).\n\nMessage: ```I passed!```")


def test_moa_merges_on_the_chat_s_model_streamed_when_asked(client, admin, models):
    configure(client, admin, TASK_MODEL=VISIBLE_MODELS["openai"])
    body = {"model": VISIBLE_MODELS["ollama"], "prompt": "Best pasta?", "responses": ["Penne", "Fusilli"]}
    merged = sent(client, admin, "moa", {**body, "stream": True})
    assert merged["model"] == VISIBLE_MODELS["ollama"] and merged["stream"] is True
    prompt = merged["messages"][0]["content"]
    assert prompt.startswith('You have been provided with a set of responses from various models to the latest user '
                             'query: "Best pasta?"')
    assert prompt.endswith('Responses from models: """Penne"""\n\n"""Fusilli"""')
    assert sent(client, admin, "moa", body)["stream"] is False


def test_admin_templates_replace_the_defaults_of_queries_autocomplete_and_image_prompts(client, admin, models):
    configure(client, admin, ENABLE_AUTOCOMPLETE_GENERATION=True, QUERY_GENERATION_PROMPT_TEMPLATE="Q {{prompt}}",
              AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE="A {{TYPE}}: {{PROMPT}}",
              IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE="I {{MESSAGES:END:1}}")
    chat = {"model": VISIBLE_MODELS["ollama"], "messages": CONVERSATION}
    assert sent(client, admin, "queries", chat)["messages"][0]["content"] == "Q How do I boil pasta?"
    assert sent(client, admin, "auto", {**chat, "prompt": "Boil", "type": "search query"})["messages"][0][
        "content"] == "A search query: Boil"
    assert sent(client, admin, "image_prompt", chat)["messages"][0]["content"] == \
        "I ASSISTANT: Salt the water and cook it for ten minutes."
    configure(client, admin, QUERY_GENERATION_PROMPT_TEMPLATE="  ")
    assert sent(client, admin, "queries", chat)["messages"][0]["content"].startswith("### Task:\nAnalyze")


def test_query_switches_answer_400_for_their_type_only(client, admin, models):
    configure(client, admin, ENABLE_SEARCH_QUERY_GENERATION=False)
    chat = {"model": VISIBLE_MODELS["ollama"], "messages": CONVERSATION}
    headers = bearer(admin["token"])
    off = client.post("/api/v1/tasks/queries/completions", headers=headers, json={**chat, "type": "web_search"})
    assert off.status_code == 400 and off.get_json() == {"detail": "Search query generation is disabled"}
    assert sent(client, admin, "queries", {**chat, "type": "retrieval"})["model"] == VISIBLE_MODELS["ollama"]
    configure(client, admin, ENABLE_RETRIEVAL_QUERY_GENERATION=False)
    off = client.post("/api/v1/tasks/queries/completions", headers=headers, json={**chat, "type": "retrieval"})
    assert off.status_code == 400 and off.get_json() == {"detail": "Query generation is disabled"}
    sent(client, admin, "queries", chat)  # no type: neither switch applies


def test_autocomplete_is_off_by_default_and_refuses_input_beyond_its_limit(client, admin, models):
    headers = bearer(admin["token"])
    body = {"model": VISIBLE_MODELS["ollama"], "prompt": "How long do I", "type": "General"}
    off = client.post("/api/v1/tasks/auto/completions", headers=headers, json=body)
    assert off.status_code == 400 and off.get_json() == {"detail": "Autocompletion generation is disabled"}
    configure(client, admin, ENABLE_AUTOCOMPLETE_GENERATION=True, AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH=5)
    long = client.post("/api/v1/tasks/auto/completions", headers=headers, json=body)
    assert long.status_code == 400 and long.get_json() == {"detail": "Input prompt exceeds maximum length of 5"}
    assert sent(client, admin, "auto", {**body, "prompt": "Boil"})["messages"]
    configure(client, admin, AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH=None)  # null: the default, no limit
    config = client.get("/api/v1/tasks/config", headers=headers).get_json()
    assert config["AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"] == -1
    assert sent(client, admin, "auto", body)["messages"]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("queries", {"messages": []}, "model"),
    ("queries", {"model": "m", "messages": "hello"}, "messages"),
    ("auto", {"model": "m"}, "prompt"),
    ("emoji", {"model": "m", "prompt": 3}, "prompt"),
    ("moa", {"model": "m", "prompt": "p"}, "responses"),
    ("moa", {"model": "m", "prompt": "p", "responses": [1]}, "responses"),
    ("image_prompt", {"model": ""}, "model"),
])
def test_bad_input_is_422_naming_the_field(client, admin, path, body, field):
    response = client.post(f"/api/v1/tasks/{path}/completions", headers=bearer(admin["token"]), json=body)
    assert response.status_code == 422 and field in response.get_json()["detail"]


def test_an_unknown_model_is_404(client, admin, models):
    for path, body in (("emoji", {"prompt": "hi"}), ("moa", {"prompt": "hi", "responses": []}),
                       ("image_prompt", {"messages": CONVERSATION})):
        response = client.post(f"/api/v1/tasks/{path}/completions", headers=bearer(admin["token"]),
                               json={"model": "nope", **body})
        assert response.status_code == 404 and response.get_json()["detail"]
