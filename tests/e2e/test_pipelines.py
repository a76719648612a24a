"""Pipelines on a live Switchyard: Open WebUI 0.12.4's ``/api/v1/pipelines`` routes, pipe pipelines as models and
filter pipelines around chat completions, web -> Redis -> a real worker -> the fake Pipelines server
(``tests/fakes/pipelines.py``, which runs the pipeline files below as the real server does) -> back.

OpenAI connection 0 is the fake OpenAI, connection 1 the Pipelines server."""
from __future__ import annotations

import functools
import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

from shared import messages
from tests.e2e.gateway_stack import Stack, background_request, post, sse_frames, stack_env
from tests.e2e.processes import web_server
from tests.e2e.socket_client import Browser
from tests.fakes.fixtures import FAKE_OPENAI_KEY, fail_on_faults
from tests.fakes.fixtures import fake_openai, ollama_server, openai_server  # noqa: F401
from tests.fakes.pipelines import PIPELINES_API_KEY, FakePipelines
from tests.helpers import bearer
from tests.jobs.worker import running_worker

UPPER = '''
from typing import List, Optional
from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        pipelines: List[str] = ["*"]
        priority: int = 0

    def __init__(self):
        self.type = "filter"
        self.name = "Upper"
        self.valves = self.Valves()

    async def inlet(self, body: dict, user: Optional[dict] = None) -> dict:
        body["messages"][-1]["content"] = body["messages"][-1]["content"].upper()
        return body

    async def outlet(self, body: dict, user: Optional[dict] = None) -> dict:
        for message in body["messages"]:
            if message.get("id") == body.get("id"):
                message["content"] += " [checked]"
        return body
'''
"""A filter on every model: the last message in capitals; the reply marked."""
TAG = '''
from typing import List
from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        pipelines: List[str] = ["gpt-fake"]
        priority: int = 1

    def __init__(self):
        self.type = "filter"
        self.name = "Tag"
        self.valves = self.Valves()

    async def inlet(self, body, user=None):
        body["messages"][-1]["content"] += " #tagged by " + user["name"]
        return body
'''
"""A filter on gpt-fake after ``upper`` (priority 1): it names the caller; no outlet (passed on as it came)."""
GATE = '''
from typing import List
from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        pipelines: List[str] = ["gpt-fake-mini"]
        priority: int = 0

    def __init__(self):
        self.type = "filter"
        self.valves = self.Valves()

    async def inlet(self, body, user=None):
        raise Exception("Rate limit exceeded. Please try again later.")
'''
"""A filter refusing every request of gpt-fake-mini, as the Pipelines rate-limit example does."""
ECHO = '''
class Pipeline:
    def __init__(self):
        self.name = "Echo"

    def pipe(self, user_message, model_id, messages, body):
        return f"{model_id} heard {user_message} from {body['user']['name']} ({body['user']['role']})"
'''
"""A pipe (a model of the server)."""
REVERSE = '''
class Pipeline:
    def __init__(self):
        self.name = "Reverse"

    def pipe(self, user_message, model_id, messages, body):
        for word in reversed(user_message.split()):
            yield word + " "
'''
"""A pipe that streams, uploaded by a test."""
FILES = {"upper.py": UPPER, "tag.py": TAG, "gate.py": GATE, "echo.py": ECHO}
HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def pipelines_server() -> Iterator[FakePipelines]:
    server = FakePipelines(api_key=PIPELINES_API_KEY, files=FILES).start()
    yield server
    server.stop()
    fail_on_faults(server)


@pytest.fixture
def fake_pipelines(pipelines_server: FakePipelines) -> Iterator[FakePipelines]:
    pipelines_server.reset()
    yield pipelines_server
    pipelines_server.reset()
    fail_on_faults(pipelines_server)


@pytest.fixture(scope="module")
def stack(database, ollama_server, openai_server, pipelines_server) -> Iterator[Stack]:
    env = {key: value for key, value in stack_env(ollama_server.url, openai_server.url).items()
           if key not in ("OPENAI_API_BASE_URL", "OPENAI_API_KEY")}
    env.update(OPENAI_API_BASE_URLS=f"{openai_server.url};{pipelines_server.url}",
               OPENAI_API_KEYS=f"{FAKE_OPENAI_KEY};{PIPELINES_API_KEY}")
    with running_worker(threads=8, modules=(), env=env) as worker, web_server(env) as url:
        yield Stack(url, worker)


@pytest.fixture
def auth(stack, admin, fake_pipelines) -> dict:
    """The admin's headers, once this test's model list is gathered (the worker reads the filters from it)."""
    headers = bearer(admin["token"])
    assert api(stack, "GET", "/api/models?refresh=true", headers).ok
    return headers


@pytest.fixture
def file_host(tmp_path) -> Iterator[Callable[[str, str], str]]:
    """Serves Python files for ``/pipelines/add``: ``host(name, source)`` is the file's URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def host(name: str, source: str) -> str:
        (tmp_path / name).write_text(source)
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield host
    server.shutdown()
    server.server_close()


def api(stack: Stack, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
    return requests.request(method, f"{stack.url}{path}", headers=headers, timeout=30, **kwargs)


def model_ids(stack: Stack, headers: dict, path: str = "/api/models") -> set[str]:
    return {m["id"] for m in api(stack, "GET", path, headers).json()["data"]}


def eventually(check: Callable[[], bool], timeout: float = 15) -> bool:
    """Whether ``check()`` holds within ``timeout`` seconds (a model refresh runs after each change)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_the_pipelines_server_its_pipelines_and_their_valves(stack, auth, fake_pipelines, make_user):
    assert api(stack, "GET", "/api/v1/pipelines/list", auth).json() == {
        "data": [{"url": fake_pipelines.url, "idx": 1}]}
    listed = api(stack, "GET", "/api/v1/pipelines/?urlIdx=1", auth).json()["data"]
    assert {(p["id"], p["type"], p["valves"]) for p in listed} == {
        ("upper", "filter", True), ("tag", "filter", True), ("gate", "filter", True), ("echo", "pipe", False)}
    assert fake_pipelines.received("/pipelines")[-1].headers["Authorization"] == f"Bearer {PIPELINES_API_KEY}"

    assert api(stack, "GET", "/api/v1/pipelines/tag/valves?urlIdx=1", auth).json() == {
        "pipelines": ["gpt-fake"], "priority": 1}
    spec = api(stack, "GET", "/api/v1/pipelines/tag/valves/spec?urlIdx=1", auth).json()
    assert spec["title"] == "Valves" and set(spec["properties"]) == {"pipelines", "priority"}
    missing = api(stack, "GET", "/api/v1/pipelines/echo/valves?urlIdx=1", auth)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Valves for echo not found"})
    assert api(stack, "GET", "/api/v1/pipelines/tag/valves", auth).status_code == 404  # no urlIdx

    user = bearer(make_user()["token"])
    for path in ("/api/v1/pipelines/list", "/api/v1/pipelines/?urlIdx=1", "/api/v1/pipelines/tag/valves?urlIdx=1"):
        refused = api(stack, "GET", path, user)
        assert (refused.status_code, refused.json()) == (401, {"detail": messages.ACCESS_PROHIBITED}), path


def test_pipe_pipelines_are_models_and_filters_are_not_offered(stack, auth, fake_pipelines):
    models = {m["id"]: m for m in api(stack, "GET", "/api/models", auth).json()["data"]}
    assert models["echo"]["pipeline"] == {"type": "pipe", "valves": False}
    assert (models["echo"]["name"], models["echo"]["owned_by"], models["echo"]["urlIdx"]) == ("Echo", "openai", 1)
    assert not {"upper", "tag", "gate"} & models.keys()
    base = {m["id"]: m for m in api(stack, "GET", "/api/models/base", auth).json()["data"]}
    assert base["tag"]["pipeline"] == {"type": "filter", "pipelines": ["gpt-fake"], "priority": 1, "valves": True}


def test_inlet_filters_change_the_request_in_priority_order(stack, auth, admin, fake_pipelines, fake_openai):
    answer = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": HELLO})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == f"You said: HELLO THERE #tagged by {admin['name']}"
    sent = fake_openai.received("/v1/chat/completions")[-1].body
    assert sent["model"] == "gpt-fake" and "metadata" not in sent and "user" not in sent

    inlet = fake_pipelines.received("/upper/filter/inlet")[-1].body
    assert inlet["user"] == {"id": admin["id"], "email": admin["email"], "name": admin["name"], "role": "admin"}
    assert inlet["body"]["model"] == "gpt-fake" and inlet["body"]["metadata"] == {"user_id": admin["id"]}
    assert inlet["body"]["messages"] == HELLO
    assert fake_pipelines.received("/tag/filter/inlet")[-1].body["body"]["messages"][-1]["content"] == "HELLO THERE"
    assert not fake_pipelines.received("/gate/filter/inlet")  # aimed at another model

    frames = sse_frames(post(stack, "/api/chat/completions", auth,
                             {"model": "gpt-fake", "messages": HELLO, "stream": True}))
    text = "".join(json.loads(f)["choices"][0]["delta"].get("content") or "" for f in frames[:-1])
    assert text == f"You said: HELLO THERE #tagged by {admin['name']}"


def test_a_pipe_model_answers_streamed_or_not(stack, auth, admin, fake_pipelines, fake_openai):
    answer = post(stack, "/api/chat/completions", auth, {"model": "echo", "messages": HELLO})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == f"echo heard HELLO THERE from {admin['name']} (admin)"
    assert [r.path for r in fake_pipelines.requests if r.path != "/models"] == [
        "/upper/filter/inlet", "/echo/filter/inlet", "/chat/completions"]
    sent = fake_pipelines.received("/chat/completions")[-1].body
    assert sent["user"] == {"id": admin["id"], "email": admin["email"], "name": admin["name"], "role": "admin"}
    assert not fake_openai.requests

    frames = sse_frames(post(stack, "/api/chat/completions", auth,
                             {"model": "echo", "messages": HELLO, "stream": True}))
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == (
        f"echo heard HELLO THERE from {admin['name']} (admin)")
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_web_app_reply_goes_through_the_outlet_filters(stack, auth, admin, fake_pipelines, fake_openai):
    browser = Browser(stack.url, admin["token"])
    try:
        body, reply_id = background_request("gpt-fake", browser.client.sid, "count")
        started = post(stack, "/api/chat/completions", auth, body).json()
        events = browser.wait_until(lambda ev: any(e["data"]["type"] == "chat:completion"
                                                   and e["data"]["data"].get("done") for e in ev), timeout=30)
    finally:
        browser.close()
    said = f"You said: COUNT #tagged by {admin['name']}"
    shown = [(e["data"]["type"], e["data"]["data"]) for e in events]
    outlet = next(i for i, (kind, _data) in enumerate(shown) if kind == "chat:outlet")
    done = next(i for i, (kind, data) in enumerate(shown) if kind == "chat:completion" and data.get("done"))
    assert outlet < done  # the final text is the filtered one
    assert shown[outlet][1]["messages"][-1]["id"] == reply_id
    assert shown[outlet][1]["messages"][-1]["content"] == shown[done][1]["content"] == f"{said} [checked]"

    sent = fake_pipelines.received("/upper/filter/outlet")[-1].body["body"]
    assert (sent["model"], sent["chat_id"], sent["id"], sent["session_id"]) == (
        "gpt-fake", started["chat_id"], reply_id, body["session_id"])
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [("user", "count"), ("assistant", said)]
    inlet = fake_pipelines.received("/upper/filter/inlet")[-1].body["body"]["metadata"]
    assert inlet == {"user_id": admin["id"], "chat_id": started["chat_id"], "message_id": reply_id,
                     "session_id": body["session_id"]}

    chat = api(stack, "GET", f"/api/v1/chats/{started['chat_id']}", auth).json()["chat"]
    saved = chat["history"]["messages"][reply_id]
    assert (saved["content"], saved["originalContent"], saved["done"]) == (f"{said} [checked]", said, True)


def test_chat_completed_runs_the_outlet_filters(stack, auth, fake_pipelines):
    chat = api(stack, "POST", "/api/v1/chats/new", auth, json={"chat": {"title": "t"}}).json()
    body = {"model": "gpt-fake", "chat_id": chat["id"], "id": "m2", "session_id": "sid", "model_item": {},
            "messages": [{"id": "m1", "role": "user", "content": "hi"}, {"id": "m2", "role": "assistant",
                                                                         "content": "hello"}]}
    answer = api(stack, "POST", "/api/chat/completed", auth, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["messages"][-1] == {"id": "m2", "role": "assistant", "content": "hello [checked]"}
    assert "model_item" not in fake_pipelines.received("/upper/filter/outlet")[-1].body["body"]


def test_a_filter_that_refuses_stops_the_request_with_its_message(stack, auth, fake_pipelines, fake_openai):
    refused = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake-mini", "messages": HELLO})
    assert refused.status_code == 502
    assert refused.json() == {"detail": "Pipelines: Rate limit exceeded. Please try again later."}
    assert len(fake_pipelines.received("/gate/filter/inlet")) == 1  # not retried
    assert not fake_openai.requests


def test_uploaded_added_changed_and_deleted_pipelines(stack, auth, fake_pipelines, file_host):
    refused = api(stack, "POST", "/api/v1/pipelines/upload", auth, data={"urlIdx": "1"},
                  files={"file": ("notes.txt", b"hi", "text/plain")})
    assert (refused.status_code, refused.json()) == (400, {"detail": "Only Python (.py) files are allowed."})

    uploaded = api(stack, "POST", "/api/v1/pipelines/upload", auth, data={"urlIdx": "1"},
                   files={"file": ("reverse.py", REVERSE.encode(), "text/x-python")})
    assert uploaded.json() == {"status": True, "detail": "Pipeline uploaded successfully to ./pipelines/reverse.py"}
    assert fake_pipelines.files["reverse.py"] == REVERSE
    assert eventually(lambda: "reverse" in model_ids(stack, auth))
    frames = sse_frames(post(stack, "/api/chat/completions", auth,
                             {"model": "reverse", "messages": HELLO, "stream": True}))
    assert "".join(json.loads(f)["choices"][0]["delta"].get("content") or "" for f in frames[:-1]) == "THERE HELLO "

    added = api(stack, "POST", "/api/v1/pipelines/add", auth,
                json={"url": file_host("shout.py", ECHO.replace("Echo", "Shout")), "urlIdx": "1"})
    assert added.json() == {"status": True, "detail": "Pipeline added successfully from ./pipelines/shout.py"}
    assert eventually(lambda: "shout" in model_ids(stack, auth))

    updated = api(stack, "POST", "/api/v1/pipelines/tag/valves/update?urlIdx=1", auth,
                  json={"pipelines": ["reverse"], "priority": 1})
    assert updated.json() == {"pipelines": ["reverse"], "priority": 1}
    assert eventually(lambda: post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": HELLO})
                      .json()["choices"][0]["message"]["content"] == "You said: HELLO THERE")
    invalid = api(stack, "POST", "/api/v1/pipelines/tag/valves/update?urlIdx=1", auth, json={"priority": "high"})
    assert invalid.status_code == 502 and "priority" in invalid.json()["detail"]

    deleted = api(stack, "DELETE", "/api/v1/pipelines/delete", auth, json={"id": "reverse", "urlIdx": 1})
    assert deleted.json() == {"status": True, "detail": "Pipeline reverse deleted successfully"}
    assert eventually(lambda: "reverse" not in model_ids(stack, auth))
    missing = api(stack, "DELETE", "/api/v1/pipelines/delete", auth, json={"id": "reverse", "urlIdx": 1})
    assert missing.status_code == 502 and missing.json() == {
        "detail": "Pipelines: HTTP 500 Internal Server Error: Internal Server Error"}


def test_an_unreachable_pipelines_server_is_a_clear_error(stack, auth, fake_pipelines, fake_openai):
    assert api(stack, "GET", "/api/models", auth).ok  # the filters are in the model list
    fake_pipelines.behave(hang=True)
    started = time.monotonic()
    answer = post(stack, "/api/chat/completions", auth, {"model": "gpt-fake", "messages": HELLO})
    assert answer.json()["choices"][0]["message"]["content"] == "You said: hello there"  # filters passed over
    assert time.monotonic() - started < 15

    fake_pipelines.behave(hang=False)
    dead = "http://127.0.0.1:9"
    config = api(stack, "GET", "/openai/config", auth).json()
    moved = {**config, "OPENAI_API_BASE_URLS": [config["OPENAI_API_BASE_URLS"][0], dead]}
    assert api(stack, "POST", "/openai/config/update", auth, json=moved).ok
    try:
        assert api(stack, "GET", "/api/v1/pipelines/list", auth).json() == {"data": []}
        for method, path, body, name in (
                ("GET", "/api/v1/pipelines/?urlIdx=1", None, "OpenAI"),
                ("GET", "/api/v1/pipelines/tag/valves?urlIdx=1", None, "OpenAI"),
                ("POST", "/api/v1/pipelines/add", {"url": "http://example.com/p.py", "urlIdx": 1}, "Pipelines"),
                ("POST", "/api/v1/pipelines/tag/valves/update?urlIdx=1", {"priority": 2}, "Pipelines")):
            failed = api(stack, method, path, auth, json=body)
            assert (failed.status_code, failed.json()) == (502, {"detail": f"{name}: could not reach {dead}"}), path
        unknown = api(stack, "GET", "/api/v1/pipelines/?urlIdx=7", auth)
        assert (unknown.status_code, unknown.json()) == (
            404, {"detail": "OpenAI connection 7 is not configured or not enabled."})
    finally:  # announced to the web and worker processes (the next test's reset is not)
        api(stack, "POST", "/openai/config/update", auth, json=config)


def test_the_background_reply_of_a_pipe_model_is_saved(stack, auth, admin, fake_pipelines):
    body, reply_id = background_request("echo", str(uuid.uuid4()), "ping")
    started = post(stack, "/api/chat/completions", auth, body).json()
    said = f"echo heard PING from {admin['name']} (admin)"

    def reply() -> dict:
        chat = api(stack, "GET", f"/api/v1/chats/{started['chat_id']}", auth).json()["chat"]
        return chat["history"]["messages"][reply_id]

    assert eventually(lambda: "originalContent" in reply())
    assert (reply()["content"], reply()["originalContent"], reply()["done"]) == (f"{said} [checked]", said, True)
    outlets = [r.path for r in fake_pipelines.requests if r.path.endswith("/filter/outlet")]
    assert outlets == ["/echo/filter/outlet", "/upper/filter/outlet"]  # the pipe's own first, then the filters
