"""Tools end to end (web -> Redis -> worker -> sandboxed child process -> back): saving a tool module in Open
WebUI's format loads it in the sandbox and stores the specs read from it; code that does not load, loops,
blows up its memory or exits answers a clear 400 and the worker keeps serving."""
from __future__ import annotations

import http.server
import threading
from functools import partial
from pathlib import Path

import pytest
import requests

from tests.e2e.processes import web_server
from tests.helpers import bearer
from tests.jobs.worker import running_worker

EXAMPLE = (Path(__file__).parent / "extensions" / "string_inverse.py").read_text()
"""Open WebUI's documented example tool, as published."""
LIMITS = {"EXTENSION_TIME_LIMIT_SECONDS": "3", "EXTENSION_MEMORY_LIMIT_MB": "300",
          "ENABLE_LOCAL_WEB_FETCH": "true"}
"""Short limits; and the guarded fetch lets the worker reach the loopback file server below."""


@pytest.fixture(scope="module")
def live(database):
    with running_worker(threads=2, modules=(), env=LIMITS), web_server() as url:
        yield url


@pytest.fixture(scope="module")
def file_server():
    """The example modules over HTTP on loopback."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(Path(__file__).parent / "extensions"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def save(live: str, token: str, content: str, tool_id: str = "string_inverse", path: str = "/api/v1/tools/create"):
    return requests.post(f"{live}{path}", headers=bearer(token), timeout=60,
                         json={"id": tool_id, "name": "String Inverse", "content": content,
                               "meta": {"description": "Reverses strings"}})


def test_a_tool_is_loaded_in_the_sandbox_and_stored_with_its_specs(live, admin, make_user):
    token = admin["token"]
    made = save(live, token, EXAMPLE)
    assert made.status_code == 200, made.text
    tool = made.json()
    assert tool["specs"] == [{"name": "reverse_string", "description": "Reverses the input string.",
                              "parameters": {"type": "object", "required": ["string"], "properties": {
                                  "string": {"type": "string", "description": "The string to reverse"}}}}]
    assert tool["meta"]["manifest"]["title"] == "String Inverse"
    assert tool["meta"]["manifest"]["requirements"].startswith("langchain-openai")  # reported, not installed
    assert tool["meta"]["description"] == "Reverses strings" and tool["meta"]["has_user_valves"] is False

    spec = requests.get(f"{live}/api/v1/tools/id/string_inverse/valves/spec", headers=bearer(token)).json()
    assert spec["properties"]["api_key"]["description"] == "Your API key here"
    assert requests.post(f"{live}/api/v1/tools/id/string_inverse/valves/update", headers=bearer(token),
                         json={"api_key": "42", "unknown": 1}).json() == {"api_key": "42"}
    assert requests.get(f"{live}/api/v1/tools/id/string_inverse/valves", headers=bearer(token)).json() == {
        "api_key": "42"}
    listed = requests.get(f"{live}/api/v1/tools/", headers=bearer(token)).json()
    assert [t["id"] for t in listed] == ["string_inverse"] and "content" not in listed[0]

    changed = save(live, token, EXAMPLE.replace("Reverses the input string.", "Reverses a string."),
                   path="/api/v1/tools/id/string_inverse/update")
    assert changed.json()["specs"][0]["description"] == "Reverses a string."
    history = requests.get(f"{live}/api/v1/tools/id/string_inverse/history", headers=bearer(token)).json()
    assert len(history) == 2
    restored = requests.post(f"{live}/api/v1/tools/id/string_inverse/update/version", headers=bearer(token),
                             json={"version_id": history[1]["id"]}, timeout=60).json()
    assert restored["specs"][0]["description"] == "Reverses the input string."

    user = make_user()
    assert save(live, user["token"], EXAMPLE, "mine").status_code == 401  # needs workspace.tools
    assert requests.get(f"{live}/api/v1/tools/id/string_inverse", headers=bearer(user["token"])).status_code == 404


@pytest.mark.parametrize(("content", "expected"), [
    ("import not_a_module_anywhere\nclass Tools: pass", "ModuleNotFoundError"),
    ("class Tools:\n    def broken(self)\n", "SyntaxError"),
    ("class Helper: pass", "defines none of the classes"),
    ("while True:\n    pass", "ran past its time limit (3 s)"),
    ("block = bytearray(2 * 1024 ** 3)", "MemoryError"),
    ("import os\nos._exit(3)", "exited with code 3"),
])
def test_code_that_does_not_load_answers_400_and_the_worker_keeps_serving(live, admin, content, expected):
    failed = save(live, admin["token"], content, "bad_tool")
    assert failed.status_code == 400, failed.text
    assert expected in failed.json()["detail"]
    assert requests.get(f"{live}/api/v1/tools/id/bad_tool", headers=bearer(admin["token"])).status_code == 404
    assert save(live, admin["token"], EXAMPLE, "still_serving").status_code == 200
    requests.delete(f"{live}/api/v1/tools/id/still_serving/delete", headers=bearer(admin["token"]))


def test_bad_forms_are_422_and_taken_or_odd_ids_400(live, admin):
    token = admin["token"]
    assert requests.post(f"{live}/api/v1/tools/create", headers=bearer(token), json={"id": "x"}).status_code == 422
    assert save(live, token, EXAMPLE, "has space").status_code == 400
    assert save(live, token, EXAMPLE, "dup").status_code == 200
    taken = save(live, token, EXAMPLE, "dup")
    assert taken.status_code == 400 and "already registered" in taken.json()["detail"]


def test_code_is_loaded_from_a_url_by_a_job_through_the_guarded_fetch(live, admin, make_user, file_server):
    token = admin["token"]
    for area in ("tools", "functions"):
        loaded = requests.post(f"{live}/api/v1/{area}/load/url", headers=bearer(token), timeout=60,
                               json={"url": f"{file_server}/string_inverse.py"})
        assert loaded.status_code == 200, loaded.text
        assert loaded.json() == {"name": "string_inverse", "content": EXAMPLE}
    metadata = requests.post(f"{live}/api/v1/tools/load/url", headers=bearer(token), timeout=60,
                             json={"url": "http://169.254.169.254/latest/meta-data/tool.py"})
    assert metadata.status_code == 400  # cloud metadata: refused even where local fetches are allowed
    missing = requests.post(f"{live}/api/v1/tools/load/url", headers=bearer(token), timeout=60,
                            json={"url": f"{file_server}/nothing.py"})
    assert missing.status_code == 400 and "404" in missing.json()["detail"]
    assert requests.post(f"{live}/api/v1/tools/load/url", headers=bearer(token),
                         json={"url": "ftp://example.com/x.py"}).status_code == 422
    user = make_user()
    assert requests.post(f"{live}/api/v1/tools/load/url", headers=bearer(user["token"]),
                         json={"url": f"{file_server}/string_inverse.py"}).status_code == 401
