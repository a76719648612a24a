"""Job events of a background chat reply become Open WebUI socket.io events (read off the Redis channel
the web processes listen on); the relay writes nothing, and a final failure the actor did not record is saved
by the reply's ``on_failure`` step."""
from __future__ import annotations

import json
import threading
import time

import pytest

from shared import socket_events
from shared.db import session_scope
from shared.jobs import events
from shared.models.base import new_id
from shared.models.job import Job
from shared.redis_client import get_redis
from shared.services.chats import history, store
from shared.services.chats.delivery import ChatRelay, ChatReply, record_final_error, relay


@pytest.fixture
def channel():
    """What web processes would receive: (room, event, data) per published socket.io message."""
    pubsub = get_redis().pubsub()
    pubsub.subscribe(socket_events.channel())
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    received: list[tuple[str, str, dict]] = []

    def drain(expected: int, timeout: float = 5.0) -> list[tuple[str, str, dict]]:
        deadline = time.monotonic() + timeout
        while len(received) < expected and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                body = json.loads(message["data"])
                received.append((body["room"], body["event"], body["data"][0]))
        return received

    yield drain
    pubsub.close()


@pytest.fixture
def chat(admin):
    with session_scope() as session:
        row = store.create_chat(session, admin["id"], {"title": "t", "history": {"messages": {}, "currentId": None}})
        store.upsert_message(session, admin["id"], row.id, {"id": "u1", "parentId": None, "role": "user",
                                                             "content": "hi"})
        store.upsert_message(session, admin["id"], row.id, {"id": "a1", "parentId": "u1", "role": "assistant",
                                                             "content": "", "done": False})
    return admin["id"], row.id


def run_relay(job_id: str, owner_id: str, chat_id: str) -> threading.Thread:
    thread = threading.Thread(target=relay, args=(job_id, ChatRelay(owner_id, chat_id, "a1"), None), daemon=True)
    thread.start()
    return thread


def stored_reply(owner_id: str, chat_id: str) -> dict:
    with session_scope() as session:
        return history.messages_of(store.get_chat(session, owner_id, chat_id).chat)["a1"]


def payloads(received) -> list[tuple[str, object]]:
    return [(data["data"]["type"], data["data"]["data"]) for _, _, data in received]


def test_a_reply_streams_then_finishes(channel, chat):
    owner_id, chat_id = chat
    thread = run_relay("job-ok", owner_id, chat_id)
    for text in ("He", "Hello", "Hello!"):
        events.publish("job-ok", "delta", {"chunk": {}, "chat_id": chat_id, "message_id": "a1", "content": text})
    events.publish_many("job-ok", [("result", {"result": {"usage": {"total_tokens": 7}}}),
                                   ("status", {"status": "succeeded"})])
    thread.join(5)
    assert not thread.is_alive()
    received = channel(5)
    assert {room for room, _, _ in received} == {f"user:{owner_id}"}
    assert {event for _, event, _ in received} == {"events"}
    assert all(data["chat_id"] == chat_id and data["message_id"] == "a1" for _, _, data in received)
    assert payloads(received) == [
        ("chat:completion", {"content": "He"}), ("chat:completion", {"content": "Hello"}),
        ("chat:completion", {"content": "Hello!"}),
        ("chat:completion", {"done": True, "content": "Hello!", "usage": {"total_tokens": 7}}),
        ("chat:active", {"active": False}),
    ]


def test_a_failure_is_shown_and_saved(channel, chat):
    owner_id, chat_id = chat
    thread = run_relay("job-bad", owner_id, chat_id)
    events.publish_many("job-bad", [("error", {"type": "upstream", "message": "Ollama: boom", "status": 502}),
                                    ("status", {"status": "failed"})])
    thread.join(5)
    assert payloads(channel(2)) == [
        ("chat:message:error", {"error": {"content": "Ollama: boom"}, "done": True}),
        ("chat:active", {"active": False}),
    ]
    assert stored_reply(owner_id, chat_id)["done"] is False  # the job's steps write the reply, not its relay


def test_a_cancelled_reply_keeps_its_text(channel, chat):
    owner_id, chat_id = chat
    thread = run_relay("job-stop", owner_id, chat_id)
    events.publish("job-stop", "delta", {"content": "Partial"})
    events.publish("job-stop", "status", {"status": "cancelled"})
    thread.join(5)
    assert payloads(channel(3))[1:] == [("chat:tasks:cancel", {}), ("chat:active", {"active": False})]
    assert stored_reply(owner_id, chat_id)["content"] == ""


def test_a_retry_ends_this_attempts_relay(channel, chat):
    owner_id, chat_id = chat
    thread = run_relay("job-retry", owner_id, chat_id)
    events.publish("job-retry", "progress", {"progress": 0.0, "message": "Retrying: connection refused"})
    thread.join(5)
    assert not thread.is_alive()
    assert payloads(channel(1)) == [("status", {"description": "Retrying: connection refused", "done": False})]


def failed_job(owner_id: str, chat_id: str, status: str = "failed") -> dict:
    """A reply's job row as the worker leaves it, and the message data Dramatiq hands ``on_failure``."""
    kwargs = {"owner_id": owner_id, "background": {"chat_id": chat_id, "message_id": "a1", "tasks": {}}}
    with session_scope() as session:
        job = Job(id=new_id(), actor="llm.chat_completion", queue="llm", kind="chat.completion", owner_id=owner_id,
                  payload=kwargs, options={}, status=status, error={"type": "upstream", "message": "Ollama: busy"})
        session.add(job)
    return {"message_id": job.id, "kwargs": {"job_id": job.id, **kwargs}}


def test_a_final_failure_the_actor_did_not_record_is_saved_on_the_reply(chat):
    owner_id, chat_id = chat
    record_final_error(failed_job(owner_id, chat_id))
    reply = stored_reply(owner_id, chat_id)
    assert reply["done"] is True and reply["error"] == {"content": "Ollama: busy"}


def test_the_failure_step_leaves_an_ended_reply_and_a_job_that_will_be_retried_alone(chat):
    owner_id, chat_id = chat
    record_final_error(failed_job(owner_id, chat_id, status="queued"))  # a retry follows
    assert stored_reply(owner_id, chat_id)["done"] is False
    ChatReply("job", owner_id, {"chat_id": chat_id, "message_id": "a1"}).failed("Partial", "OpenAI: broke")
    record_final_error(failed_job(owner_id, chat_id))
    reply = stored_reply(owner_id, chat_id)
    assert (reply["content"], reply["error"]) == ("Partial", {"content": "OpenAI: broke"})


def test_steps_before_the_answer_and_the_files_a_reply_carries_reach_the_browser(channel, chat):
    owner_id, chat_id = chat
    thread = run_relay("job-image", owner_id, chat_id)
    image = {"type": "image", "id": "f1", "url": "/api/v1/files/f1/content"}
    events.publish_many("job-image", [("delta", {"chunk": {"status": {"description": "Creating image",
                                                                      "done": False}}}),
                                      ("delta", {"chunk": {"files": [image]}}),
                                      ("status", {"status": "succeeded"})])
    thread.join(5)
    assert payloads(channel(3)) == [("status", {"description": "Creating image", "done": False}),
                                    ("files", {"files": [image]}), ("chat:active", {"active": False})]
