"""The chat services other areas build on: create, upsert/delete messages, title, tags, ownership, locking."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from shared.db import session_scope
from shared.errors import BadRequest, NotFound
from shared.models import User
from shared.services.chats import folders, history, store, tags


def _user(session, email: str) -> str:
    user = User(email=email, name=email.split("@")[0], role="user")
    session.add(user)
    session.flush()
    return user.id


def _in_threads(work, args: list) -> None:
    """Run ``work(arg)`` for every arg in its own thread, each in its own session; fail on any error."""
    errors = []

    def run(arg) -> None:
        try:
            with session_scope() as session:
                work(session, arg)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


@pytest.fixture
def owners():
    with session_scope() as session:
        return _user(session, "alice@example.com"), _user(session, "bob@example.com")


def _tree_is_consistent(chat: dict) -> None:
    messages = chat["history"]["messages"]
    for mid, message in messages.items():
        assert message["id"] == mid
        parent = message.get("parentId")
        if parent is not None:
            assert mid in messages[parent]["childrenIds"]
        for child in message.get("childrenIds", []):
            assert messages[child]["parentId"] == mid
    current = chat["history"]["currentId"]
    assert [m["id"] for m in chat["messages"]] == [m["id"] for m in history.branch(messages, current)]
    assert chat["messages"][-1]["id"] == current if current else chat["messages"] == []


def test_create_keeps_the_object_as_sent(owners):
    alice, _ = owners
    sent = {"zeta": 1, "title": "Hi ☃", "alpha": [1.5, None, {"b": 2, "a": 1}], "history": {"messages": {}}}
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, sent).id
    with session_scope() as session:
        row = store.get_chat(session, alice, chat_id)
        assert json.dumps(row.chat) == json.dumps(sent)
        assert row.title == "Hi ☃"


def test_another_users_chat_is_not_found(owners):
    alice, bob = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "mine"}).id
    with session_scope() as session:
        for call in (
            lambda: store.get_chat(session, bob, chat_id),
            lambda: store.upsert_message(session, bob, chat_id, {"id": "m1", "role": "user", "content": "x"}),
            lambda: store.set_title(session, bob, chat_id, "stolen"),
            lambda: store.set_tags(session, bob, chat_id, ["x"]),
            lambda: store.delete_chat(session, bob, chat_id),
        ):
            with pytest.raises(NotFound):
                call()


def test_upsert_message_builds_a_consistent_tree(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "t", "history": {"messages": {}, "currentId": None},
                                                     "messages": []}).id
        store.upsert_message(session, alice, chat_id, {"id": "u1", "parentId": None, "role": "user", "content": "hi"})
        store.upsert_message(session, alice, chat_id, {"id": "a1", "parentId": "u1", "role": "assistant",
                                                       "content": "", "done": False})
        saved = store.upsert_message(session, alice, chat_id, {"id": "a1", "content": "hello", "done": True})
        assert saved == {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant", "content": "hello",
                         "done": True, "timestamp": saved["timestamp"]}
        # a regenerated reply: a sibling under the same parent becomes current
        store.upsert_message(session, alice, chat_id, {"id": "a2", "parentId": "u1", "role": "assistant",
                                                       "content": "again"})
    with session_scope() as session:
        row = store.get_chat(session, alice, chat_id)
        _tree_is_consistent(row.chat)
        assert row.chat["history"]["messages"]["u1"]["childrenIds"] == ["a1", "a2"]
        assert [m["id"] for m in row.chat["messages"]] == ["u1", "a2"]
        assert row.current_message_id == "a2"


def test_upsert_message_rejects_bad_messages(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "t"}).id
        with pytest.raises(BadRequest):
            store.upsert_message(session, alice, chat_id, {"role": "user"})
        with pytest.raises(BadRequest):
            store.upsert_message(session, alice, chat_id, {"id": "x", "parentId": "nope"})


def test_delete_message_removes_its_replies_and_keeps_links(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "t"}).id
        for mid, parent in (("u1", None), ("a1", "u1"), ("u2", "a1"), ("a2", "u2")):
            store.upsert_message(session, alice, chat_id, {"id": mid, "parentId": parent, "content": mid,
                                                           "role": "user" if mid[0] == "u" else "assistant"})
        row = store.delete_message(session, alice, chat_id, "a1")
        # a1 and its reply u2 go; a2 moves up under u1
        assert set(row.chat["history"]["messages"]) == {"u1", "a2"}
        _tree_is_consistent(row.chat)
        assert row.chat["history"]["currentId"] == "a2"
        with pytest.raises(NotFound):
            store.delete_message(session, alice, chat_id, "a1")


def test_set_title_and_tags(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "old", "keep": True}).id
        store.set_title(session, alice, chat_id, "  New title ")
        result = store.set_tags(session, alice, chat_id, ["Road Trip", "work", "road trip"])
        assert [t.id for t in result] == ["road_trip", "work"]
    with session_scope() as session:
        row = store.get_chat(session, alice, chat_id)
        assert row.title == "New title" and row.chat == {"title": "New title", "keep": True}
        assert row.meta["tags"] == ["road_trip", "work"]
        store.set_tags(session, alice, chat_id, ["work"])
        assert [t.id for t in tags.list_tags(session, alice)] == ["work"]  # the orphan went
        with pytest.raises(BadRequest):
            store.set_tags(session, alice, chat_id, ["None"])


def test_folder_must_be_the_users_own(owners):
    alice, bob = owners
    with session_scope() as session:
        folder_id = folders.create_folder(session, bob, "Bob's").id
        with pytest.raises(NotFound):
            store.create_chat(session, alice, {"title": "x"}, folder_id=folder_id)


def test_concurrent_message_saves_lose_nothing(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "t", "history": {"messages": {}}}).id
        store.upsert_message(session, alice, chat_id, {"id": "root", "role": "user", "content": "q"})
    _in_threads(lambda session, i: store.upsert_message(session, alice, chat_id, {
        "id": f"r{i}", "parentId": "root", "role": "assistant", "content": str(i)}), list(range(8)))
    with session_scope() as session:
        row = store.get_chat(session, alice, chat_id)
        assert sorted(row.chat["history"]["messages"]["root"]["childrenIds"]) == sorted(f"r{i}" for i in range(8))
        _tree_is_consistent(row.chat)


def test_a_stale_full_save_keeps_a_reply_saved_meanwhile(owners):
    alice, _ = owners
    base = {"title": "t", "history": {"currentId": "u1", "messages": {
        "u1": {"id": "u1", "parentId": None, "childrenIds": [], "role": "user", "content": "q"}}}}
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, base).id
        store.upsert_message(session, alice, chat_id, {"id": "a1", "parentId": "u1", "role": "assistant",
                                                       "content": "answer", "done": True})
        stale = json.loads(json.dumps(base))
        stale["title"] = "renamed"
        row = store.update_chat(session, alice, chat_id, stale)
        assert row.chat["history"]["messages"]["a1"]["content"] == "answer"
        assert row.chat["history"]["messages"]["u1"]["childrenIds"] == ["a1"]
        assert row.title == "renamed"


def test_an_update_never_moves_a_message_in_the_tree(owners):
    alice, _ = owners
    with session_scope() as session:
        chat_id = store.create_chat(session, alice, {"title": "t"}).id
        store.upsert_message(session, alice, chat_id, {"id": "u1", "role": "user", "content": "q"})
        store.upsert_message(session, alice, chat_id, {"id": "a1", "parentId": "u1", "role": "assistant"})
        saved = store.upsert_message(session, alice, chat_id, {"id": "a1", "parentId": None, "childrenIds": ["x"],
                                                               "content": "done"})
        assert saved["parentId"] == "u1" and saved["childrenIds"] == [] and saved["content"] == "done"
        _tree_is_consistent(store.get_chat(session, alice, chat_id).chat)


def test_concurrent_tagging_creates_each_tag_once(owners):
    alice, _ = owners
    with session_scope() as session:
        ids = [store.create_chat(session, alice, {"title": str(i)}).id for i in range(6)]
    _in_threads(lambda session, chat_id: store.set_tags(session, alice, chat_id,
                                                        ["Shared Tag", f"own {chat_id[:4]}"]), ids)
    with session_scope() as session:
        assert [t.id for t in tags.list_tags(session, alice)].count("shared_tag") == 1
        assert tags.count_chats(session, alice, "Shared Tag") == 6


def test_import_rejects_malformed_tags(owners):
    alice, _ = owners
    with session_scope() as session:
        with pytest.raises(BadRequest):
            store.import_chats(session, alice, [{"chat": {}, "meta": {"tags": "oops"}}])
        with pytest.raises(BadRequest):
            store.import_chats(session, alice, [{"chat": {}, "meta": {"tags": [1]}}])


SQLITE_SAVES = """
import threading
from shared.cli import migrate
from shared.db import session_scope
from shared.models import User
from shared.services.chats import store
migrate()
with session_scope() as s:
    user = User(email="a@example.com", name="a", role="user")
    s.add(user)
    s.flush()
    uid = user.id
    cid = store.create_chat(s, uid, {"title": "t"}).id
    store.upsert_message(s, uid, cid, {"id": "root", "role": "user", "content": "q"})
def save(i):
    with session_scope() as s:
        store.upsert_message(s, uid, cid, {"id": f"r{i}", "parentId": "root", "role": "assistant"})
threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
[t.start() for t in threads]
[t.join(30) for t in threads]
with session_scope() as s:
    print(sorted(store.get_chat(s, uid, cid).chat["history"]["messages"]["root"]["childrenIds"]))
"""


def test_concurrent_saves_lose_nothing_on_the_sqlite_default(tmp_path):
    """The zero-config SQLite database has no row locks; saves still apply one after the other."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", SQLITE_SAVES], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == str(sorted(f"r{i}" for i in range(8)))
