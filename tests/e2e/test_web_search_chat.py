"""Web search in a chat, end to end: web -> Redis -> worker -> fake search engine + fake pages + fake Ollama ->
back. The reply carries the ``web_search`` source and the prompt the page's text; the job showed its steps
as status lines; a user without the ``features.web_search`` permission is refused."""
from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
import requests

from tests.e2e.gateway_stack import Stack, stack_env
from tests.e2e.processes import web_server
from tests.fakes.fixtures import fake_ollama, ollama_server, openai_server  # noqa: F401
from tests.fakes.fixtures import fake_web_search, web_search_server  # noqa: F401
from tests.fakes.web_search import PAGES
from tests.jobs.worker import running_worker

LLAMA = "llama-fake:latest"
TASK = "qwen-fake:0.5b"
QUESTION = "Who is the lighthouse keeper of Port Alder?"


@pytest.fixture(scope="module")
def stack(database, ollama_server, openai_server):
    """The live stack, its worker allowed to fetch loopback addresses (where the fake pages are); users see
    every model, so a refusal below is about web search alone."""
    env = {**stack_env(ollama_server.url, openai_server.url), "ENABLE_LOCAL_WEB_FETCH": "true",
           "BYPASS_MODEL_ACCESS_CONTROL": "true"}
    with running_worker(threads=8, modules=(), env=env) as worker, web_server(env) as url:
        yield Stack(url, worker)


@pytest.fixture
def api(stack, admin, fake_ollama, fake_web_search):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {admin['token']}"
    session.base = stack.url
    for path, body in (
        ("/api/v1/retrieval/embedding/update", {"RAG_EMBEDDING_ENGINE": "ollama",
                                                "RAG_EMBEDDING_MODEL": "nomic-fake:latest"}),
        ("/api/v1/retrieval/config/update", {"CHUNK_SIZE": 80, "CHUNK_OVERLAP": 0, "web": {
            **fake_web_search.settings(), "ENABLE_WEB_SEARCH": True, "WEB_SEARCH_ENGINE": "searxng"}}),
    ):
        assert session.post(stack.url + path, json=body, timeout=10).status_code == 200
    return session


def _tasks(api, **config) -> None:
    """Query generation settings (``/api/v1/tasks/config``); the rest as Open WebUI ships them."""
    body = {"ENABLE_SEARCH_QUERY_GENERATION": True, "QUERY_GENERATION_PROMPT_TEMPLATE": "", "TASK_MODEL": "",
            **config}
    assert api.post(f"{api.base}/api/v1/tasks/config/update", json=body, timeout=10).status_code == 200


def _statuses(api, body: dict) -> list[dict]:
    """The status lines of a streamed reply, in order, and the chunk after them."""
    with api.post(f"{api.base}/api/chat/completions", json={**body, "stream": True}, stream=True, timeout=60) as s:
        lines = [line[6:] for line in s.iter_lines(decode_unicode=True) if line.startswith("data: {")]
    chunks = [json.loads(line) for line in lines]
    return [chunk["status"] for chunk in chunks if "status" in chunk]


def _searched(fake_web_search) -> list[str]:
    return [unquote_plus(r.params["q"]) for r in fake_web_search.received("/searxng/search")]


BODY = {"model": LLAMA, "messages": [{"role": "user", "content": QUESTION}], "features": {"web_search": True}}
QUERIES = ["Port Alder lighthouse keeper", "Port Alder harbor"]


def test_the_task_model_writes_the_queries_and_the_reply_cites_the_pages(api, fake_ollama, fake_web_search):
    # The fake echoes its prompt, so a template holding the JSON answer is what the task model answers.
    _tasks(api, TASK_MODEL=TASK, QUERY_GENERATION_PROMPT_TEMPLATE=(
        'Chat: {{MESSAGES:END:2}}\nAnswer: ```json\n{"queries": ["%s", "%s"]}\n```' % tuple(QUERIES)))
    answer = api.post(f"{api.base}/api/chat/completions", json=BODY, timeout=60)
    assert answer.status_code == 200, answer.text
    (asked,) = [r.body for r in fake_ollama.received("/api/chat") if r.body["model"] == TASK]
    assert asked["messages"][0]["content"].startswith(f"Chat: USER: {QUESTION}")
    assert sorted(_searched(fake_web_search)) == sorted(QUERIES)
    (source,) = answer.json()["sources"]
    assert source["source"]["type"] == "web_search" and source["source"]["queries"] == QUERIES
    assert source["source"]["name"] == ", ".join(QUERIES)
    assert sorted(source["source"]["urls"]) == sorted(f"{fake_web_search.url}/pages/{page}" for page in PAGES)
    assert PAGES["harbor"][1] in source["document"][0]
    prompt = [r.body for r in fake_ollama.received("/api/chat") if r.body["model"] == LLAMA][-1]
    prompt = prompt["messages"][-1]["content"]
    assert PAGES["harbor"][1] in prompt and prompt.rstrip().endswith(QUESTION)

    statuses = _statuses(api, BODY)
    assert statuses[:4] == [
        {"action": "web_search", "description": "Generating search query", "done": False},
        {"action": "web_search_queries_generated", "queries": QUERIES, "done": False},
        {"action": "web_search", "description": f'Searching "{QUERIES[0]}"', "query": QUERIES[0], "done": False},
        {"action": "web_search", "description": f'Searching "{QUERIES[1]}"', "query": QUERIES[1], "done": False}]
    searched = statuses[4]
    assert searched["description"] == "Searched 3 sites" and searched["done"] is True
    assert len(searched["urls"]) == 3 and {item["link"] for item in searched["items"]} == set(searched["urls"])


@pytest.mark.parametrize("config", [
    {"QUERY_GENERATION_PROMPT_TEMPLATE": "Say anything but JSON"},
    {"TASK_MODEL": "no-such-model"},
    {"ENABLE_SEARCH_QUERY_GENERATION": False},
], ids=["unreadable answer", "task model fails", "generation off"])
def test_the_question_is_searched_when_no_query_is_generated(api, fake_ollama, fake_web_search, config):
    _tasks(api, **config)
    statuses = _statuses(api, BODY)
    assert _searched(fake_web_search) == [QUESTION]
    assert {"action": "web_search_queries_generated", "queries": [QUESTION], "done": False} in statuses
    assert statuses[-1]["description"] == "Searched 3 sites"
    generating = {"action": "web_search", "description": "Generating search query", "done": False}
    assert (generating in statuses) is (config != {"ENABLE_SEARCH_QUERY_GENERATION": False})


def test_no_query_means_no_search_and_the_reply_goes_on(api, fake_ollama, fake_web_search):
    _tasks(api, QUERY_GENERATION_PROMPT_TEMPLATE='{"queries": []}')
    answer = api.post(f"{api.base}/api/chat/completions", json=BODY, timeout=60)
    assert answer.status_code == 200 and "sources" not in answer.json()
    assert answer.json()["choices"][0]["message"]["content"] == f"You said: {QUESTION}"
    assert fake_web_search.received("/searxng/search") == []
    assert _statuses(api, BODY)[-1] == {"action": "web_search", "description": "No search query generated",
                                        "done": True}


def test_a_user_without_the_permission_gets_an_answer_without_web_search(stack, api, make_user, fake_ollama,
                                                                          fake_web_search):
    """The flag is the client's word: without ``features.web_search`` it is ignored, as Open WebUI does."""
    user = make_user()
    searches = len(fake_web_search.received("/searxng/search"))
    answer = requests.post(f"{stack.url}/api/chat/completions", timeout=60,
                           headers={"Authorization": f"Bearer {user['token']}"},
                           json={"model": LLAMA, "messages": [{"role": "user", "content": QUESTION}],
                                 "features": {"web_search": True}})
    assert answer.status_code == 200, answer.text
    assert not answer.json().get("sources")
    assert len(fake_web_search.received("/searxng/search")) == searches
