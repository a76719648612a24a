"""The server-owned chat turn: new chats, stored history, the reply placeholder, temporary store."""
from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.errors import BadRequest, NotFound
from shared.models import User
from shared.services.chats import history, store, turns


@pytest.fixture
def user(admin):
    with session_scope() as session:
        return session.get(User, admin["id"])


def user_message(mid: str, text: str, parent: str | None = None) -> dict:
    return {"id": mid, "parentId": parent, "childrenIds": [], "role": "user", "content": text, "timestamp": 1}


def test_first_message_creates_the_chat_and_the_reply_placeholder(user):
    body = {"model": "llama", "id": "a1", "parent_id": None, "user_message": user_message("u1", "Hello"),
            "messages": [{"role": "system", "content": "Be brief."}], "session_id": "sid",
            "background_tasks": {"title_generation": True}}
    with session_scope() as session:
        turn = turns.start_turn(session, user, body)
    assert turn.created and turn.message_id == "a1" and turn.tasks == {"title_generation": True}
    assert turn.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    with session_scope() as session:
        stored = store.get_chat(session, user.id, turn.chat_id).chat
    messages = history.messages_of(stored)
    assert stored["history"]["currentId"] == "a1"
    assert messages["u1"]["childrenIds"] == ["a1"] and messages["u1"]["user"]["id"] == user.id
    assert messages["a1"] == {**messages["a1"], "role": "assistant", "parentId": "u1", "done": False, "content": ""}
    assert stored["models"] == ["llama"]


def test_later_turns_send_the_stored_history(user):
    with session_scope() as session:
        first = turns.start_turn(session, user, {"model": "m", "id": "a1", "parent_id": None,
                                                     "user_message": user_message("u1", "One")})
        store.upsert_message(session, user.id, first.chat_id, {"id": "a1", "content": "Answer one", "done": True})
    with session_scope() as session:
        second = turns.start_turn(session, user, {
            "model": "m", "id": "a2", "chat_id": first.chat_id, "parent_id": "a1",
            "user_message": user_message("u2", "Two", "a1"),
        })
    assert not second.created and second.chat_id == first.chat_id
    assert second.messages == [{"role": "user", "content": "One"}, {"role": "assistant", "content": "Answer one"},
                               {"role": "user", "content": "Two"}]


def test_regenerating_answers_the_same_user_message(user):
    with session_scope() as session:
        first = turns.start_turn(session, user, {"model": "m", "id": "a1", "parent_id": None,
                                                     "user_message": user_message("u1", "One")})
        again = turns.start_turn(session, user, {"model": "m", "id": "a1b", "chat_id": first.chat_id,
                                                     "parent_id": "u1"})
        stored = history.messages_of(store.get_chat(session, user.id, first.chat_id).chat)
    assert again.messages == [{"role": "user", "content": "One"}]
    assert stored["u1"]["childrenIds"] == ["a1", "a1b"]


def test_temporary_chats_are_not_stored(user):
    with session_scope() as session:
        turn = turns.start_turn(session, user, {
            "model": "m", "id": "a1", "chat_id": "local:sid",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}],
        })
    assert turn.chat_id == "local:sid" and turn.messages == [{"role": "user", "content": "hi"}]


def test_someone_elses_chat_is_not_found(user, make_user):
    other = make_user()
    with session_scope() as session:
        theirs = store.create_chat(session, other["id"], {"title": "theirs"}).id
    with session_scope() as session, pytest.raises(NotFound):
        turns.start_turn(session, user, {"model": "m", "id": "a1", "chat_id": theirs, "parent_id": None,
                                             "user_message": user_message("u1", "x")})


@pytest.mark.parametrize("body", [
    {"model": "m", "parent_id": None, "user_message": user_message("u1", "x")},
    {"model": "m", "id": "a1", "parent_id": None, "user_message": "text"},
    {"model": "m", "id": "a1", "chat_id": None},
])
def test_bad_turns_are_400(user, body):
    with session_scope() as session, pytest.raises(BadRequest):
        turns.start_turn(session, user, body)
