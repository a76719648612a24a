"""The note editor's shared documents (``ydoc:*`` socket.io events) on two real web processes: browsers on
either get each other's Yjs updates, the text is saved to the note, readers may watch but not write, and the
document starts again from the note once everyone has left."""
from __future__ import annotations

import threading
import time

import pycrdt
import pytest
import requests

from shared.redis_client import get_redis, key
from tests.e2e.processes import web_server
from tests.e2e.socket_client import Browser
from tests.e2e.test_socketio import signup
from tests.helpers import wait_for

EVENTS = ("ydoc:document:state", "ydoc:document:update", "ydoc:user:joined", "ydoc:user:left",
          "ydoc:awareness:update")


class Editor(Browser):
    """A browser with the note editor open: it records the ``ydoc:*`` events it receives."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(base, token)
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        for name in EVENTS:
            self.client.on(name, lambda data, name=name: self._record(name, data))

    def _record(self, name: str, data: dict) -> None:
        with self.lock:
            self.received.append((name, data))

    def of(self, name: str) -> list[dict]:
        with self.lock:
            return [data for event, data in self.received if event == name]

    def join(self, document_id: str) -> dict:
        before = len(self.of("ydoc:document:state"))
        self.client.emit("ydoc:document:join", {"document_id": document_id, "user_color": "#123456"})
        wait_for(lambda: len(self.of("ydoc:document:state")) > before, "no document state", 10)
        return self.of("ydoc:document:state")[-1]


def typed(text: str) -> bytes:
    doc = pycrdt.Doc()
    doc["t"] = body = pycrdt.Text()
    body += text
    return doc.get_update()


def text_of(state: list[int]) -> str:
    doc = pycrdt.Doc()
    doc.apply_update(bytes(state))
    return str(doc.get("t", type=pycrdt.Text))


def add_user(base: str, headers: dict, email: str) -> dict:
    added = requests.post(f"{base}/api/v1/auths/add", headers=headers,
                          json={"name": email.split("@")[0], "email": email, "password": "pw-123456", "role": "user"})
    assert added.status_code == 200, added.text
    return requests.post(f"{base}/api/v1/auths/signin", json={"email": email, "password": "pw-123456"}).json()


@pytest.fixture(scope="module")
def two_webs():
    with web_server() as first, web_server() as second:
        yield first, second


def test_two_browsers_edit_a_note_together(two_webs):
    first, second = two_webs
    admin = signup(first, "admin@example.com", "Admin")
    headers = {"Authorization": f"Bearer {admin['token']}"}
    reader, stranger = (add_user(first, headers, email) for email in ("reader@example.com", "stranger@example.com"))
    note = requests.post(f"{first}/api/v1/notes/create", headers=headers, json={
        "title": "Shared", "data": {"content": {"md": "hello"}},
        "access_grants": [{"principal_type": "user", "principal_id": reader["id"], "permission": "read"}]}).json()
    document = f"note:{note['id']}"

    def saved_md() -> str:
        return requests.get(f"{first}/api/v1/notes/{note['id']}", headers=headers).json()["data"]["content"]["md"]

    writer, watcher = Editor(first, admin["token"]), Editor(second, reader["token"])
    outsider, latecomer = Editor(second, stranger["token"]), Editor(second, admin["token"])
    try:
        start = writer.join(document)
        assert (start["state"], start["content"]) == ([0, 0], {"md": "hello"})
        watcher.join(f"note_{note['id']}")  # Open WebUI's other spelling of the same document
        wait_for(lambda: writer.of("ydoc:user:joined"), "the writer never saw the reader join", 10)
        assert writer.of("ydoc:user:joined")[0]["user_id"] == reader["id"]

        update = list(typed("abc"))
        writer.client.emit("ydoc:document:update", {"document_id": document, "update": update,
                                                    "data": {"content": {"md": "abc"}}})
        wait_for(lambda: watcher.of("ydoc:document:update"), "the update never reached the other web process", 10)
        passed = watcher.of("ydoc:document:update")[0]
        assert (passed["update"], passed["socket_id"], passed["user_id"]) == (update, writer.client.get_sid(), admin["id"])
        wait_for(lambda: saved_md() == "abc", "the editor's text was never saved", 10)

        # a reader's update is neither kept nor passed on; a writer's late seed gets the stored state back
        watcher.client.emit("ydoc:document:update", {"document_id": document, "update": list(typed("zzz")),
                                                     "data": {"content": {"md": "zzz"}}})
        seeded = writer.client.call("ydoc:document:update", {"document_id": document, "update": list(typed("x")),
                                                             "initialize": True}, timeout=10)
        assert text_of(seeded) == "abc"  # the stored state comes back instead of the late seed
        time.sleep(0.5)
        assert writer.of("ydoc:document:update") == [] and saved_md() == "abc"
        assert text_of(latecomer.join(document)["state"]) == "abc"

        outsider.client.emit("ydoc:document:join", {"document_id": document})
        time.sleep(0.5)
        assert outsider.of("ydoc:document:state") == []
    finally:
        for browser in (writer, watcher, outsider, latecomer):
            browser.close()

    updates = key("notes", "ydoc", document, "updates")
    wait_for(lambda: not get_redis().exists(updates), "the document outlived its editors", 10)
    again = Editor(second, admin["token"])
    try:
        assert (again.join(document)["state"], again.of("ydoc:document:state")[-1]["content"]) == (
            [0, 0], {"md": "abc"})
    finally:
        again.close()
