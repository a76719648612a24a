"""Event webhooks end to end: a request emits an event, a real worker posts it to a receiver on loopback, signed,
retried with backoff, dead-lettered when no attempt is left; the admin sees every delivery and redelivers."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from shared.db import session_scope
from shared.services.chats import store
from shared.services.chats.delivery import ChatReply
from tests.fakes.fixtures import fake_webhook_receiver, webhook_receiver_server  # noqa: F401
from tests.helpers import bearer, wait_for
from tests.jobs.worker import running_worker

SECRET = "a-receiver-shared-secret-0123456789"
FAST_RETRIES = {"WEBHOOK_MAX_RETRIES": "2", "WEBHOOK_MIN_BACKOFF_MS": "100", "WEBHOOK_MAX_BACKOFF_MS": "400"}


@pytest.fixture(scope="module")
def webhook_worker(database):
    """A worker on the ``webhooks`` queue, allowed to post to loopback (where the receiver runs)."""
    with running_worker(threads=4, modules=(), queues=("webhooks",),
                        env={"ENABLE_LOCAL_WEB_FETCH": "true", "WEBHOOK_TIMEOUT": "5"}) as process:
        yield process


@pytest.fixture
def local_hooks(monkeypatch, webhook_worker):
    """The web side allows loopback webhooks too, and sends deliveries with quick retries."""
    monkeypatch.setenv("ENABLE_LOCAL_WEB_FETCH", "true")
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)


def make_webhook(client, admin, url: str, events: list[str], enabled: bool = True) -> dict:
    created = client.post("/api/events/webhooks", headers=bearer(admin["token"]),
                          json={"name": "Receiver", "url": url, "events": events, "secret": SECRET, "enabled": enabled})
    assert created.status_code == 200, created.get_json()
    return created.get_json()


def new_chat(client, admin) -> dict:
    made = client.post("/api/v1/chats/new", headers=bearer(admin["token"]), json={"chat": {"title": "Harbor"}})
    assert made.status_code == 200, made.get_json()
    return made.get_json()


def deliveries(client, admin, webhook_id: str, query: str = "") -> list[dict]:
    listed = client.get(f"/api/events/webhooks/{webhook_id}/deliveries{query}", headers=bearer(admin["token"]))
    assert listed.status_code == 200, listed.get_json()
    return listed.get_json()["items"]


def settled(client, admin, webhook_id: str, status: str, seconds: float = 20.0) -> dict:
    """The webhook's only delivery, once it has ``status``."""
    wait_for(lambda: [d["status"] for d in deliveries(client, admin, webhook_id)] == [status],
             f"a {status} delivery", seconds)
    return deliveries(client, admin, webhook_id)[0]


def test_an_event_is_delivered_once_and_signed(client, admin, local_hooks, fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.created"])
    assert webhook["secret"] == SECRET and webhook["events"] == ["chat.created"]
    chat = new_chat(client, admin)
    delivery = settled(client, admin, webhook["id"], "delivered")
    (received,) = fake_webhook_receiver.hooks()
    expected = "sha256=" + hmac.new(SECRET.encode(), received.raw, hashlib.sha256).hexdigest()
    assert received.headers["X-Switchyard-Signature"] == expected
    assert abs(int(received.headers["X-Switchyard-Timestamp"]) - time.time()) < 60
    assert received.headers["X-Switchyard-Delivery"] == delivery["id"]
    event = json.loads(received.raw)
    assert event["event"] == "chat.created" and event["subject"] == {"type": "chat", "id": chat["id"]}
    assert event["actor"]["id"] == admin["id"] and "password" not in json.dumps(event)
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["response_snippet"] == '{"ok": true}'
    time.sleep(1)  # nothing is sent twice
    assert len(fake_webhook_receiver.hooks()) == 1


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(client, admin, local_hooks,
                                                                     fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.*"])
    fake_webhook_receiver.behave(status=500, fail_times=2)
    new_chat(client, admin)
    delivery = settled(client, admin, webhook["id"], "delivered")
    hooks = fake_webhook_receiver.hooks()
    assert len(hooks) == 3 and delivery["attempts"] == 3
    assert len({hook.raw for hook in hooks}) == 1  # the same signed body each time
    assert all(later.at - earlier.at >= 0.1 for earlier, later in zip(hooks, hooks[1:]))  # the backoff


def test_a_delivery_without_attempts_left_is_a_dead_letter_the_admin_can_redeliver(client, admin, local_hooks,
                                                                                   fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.created"])
    fake_webhook_receiver.behave(status=500)
    new_chat(client, admin)
    dead = settled(client, admin, webhook["id"], "dead")
    assert dead["attempts"] == 3 and dead["last_status_code"] == 500
    assert dead["last_error"] == "The receiver answered 500."
    assert [d["id"] for d in deliveries(client, admin, webhook["id"], "?status=dead")] == [dead["id"]]
    assert len(fake_webhook_receiver.hooks()) == 3

    fake_webhook_receiver.reset()
    again = client.post(f"/api/events/webhooks/{webhook['id']}/deliveries/{dead['id']}/redeliver",
                        headers=bearer(admin["token"]))
    assert again.status_code == 200 and again.get_json()["status"] == "pending"
    delivered = settled(client, admin, webhook["id"], "delivered")
    assert delivered["id"] == dead["id"] and delivered["attempts"] == 4
    assert json.loads(fake_webhook_receiver.hooks()[0].raw)["id"] == dead["payload"]["id"]
    twice = client.post(f"/api/events/webhooks/{webhook['id']}/deliveries/{dead['id']}/redeliver",
                        headers=bearer(admin["token"]))
    assert twice.status_code == 409


def test_a_refusing_receiver_is_not_retried(client, admin, local_hooks, fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.created"])
    fake_webhook_receiver.behave(status=410)
    new_chat(client, admin)
    dead = settled(client, admin, webhook["id"], "dead")
    assert dead["attempts"] == 1 and dead["last_status_code"] == 410
    assert len(fake_webhook_receiver.hooks()) == 1


def test_a_slow_receiver_never_blocks_the_request_that_emitted_the_event(client, admin, local_hooks,
                                                                         fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.created"])
    fake_webhook_receiver.behave(first_delay=3)
    started = time.monotonic()
    new_chat(client, admin)
    assert time.monotonic() - started < 1.0
    assert deliveries(client, admin, webhook["id"])[0]["status"] == "pending"
    settled(client, admin, webhook["id"], "delivered")


def test_events_go_only_to_enabled_webhooks_that_subscribe_to_them(client, admin, local_hooks,
                                                                   fake_webhook_receiver):
    chats = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.created"])
    users = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["user.*", "auth.signup"])
    off = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["*"], enabled=False)
    client.post("/api/v1/auths/add", headers=bearer(admin["token"]),
                json={"name": "Ann", "email": "ann@example.com", "password": "s3cret-pass", "role": "user"})
    wait_for(lambda: len(fake_webhook_receiver.hooks()) == 1, "the user.created delivery", 20)
    assert json.loads(fake_webhook_receiver.hooks()[0].raw)["event"] == "user.created"
    assert deliveries(client, admin, chats["id"]) == []
    assert [d["event"] for d in deliveries(client, admin, users["id"])] == ["user.created"]
    assert deliveries(client, admin, off["id"]) == []
    time.sleep(1)
    assert len(fake_webhook_receiver.hooks()) == 1


def test_a_reply_saved_by_its_job_is_announced_as_chat_finished(client, admin, local_hooks, fake_webhook_receiver):
    webhook = make_webhook(client, admin, fake_webhook_receiver.hook_url, ["chat.finished"])
    chat = new_chat(client, admin)
    with session_scope() as session:
        store.upsert_message(session, admin["id"], chat["id"], {"id": "a1", "role": "assistant", "content": ""})
    ChatReply("job-reply", admin["id"], {"chat_id": chat["id"], "message_id": "a1"}).finish(
        "llama", {"content": "Hello!"})  # what the reply's job does once the answer is complete
    settled(client, admin, webhook["id"], "delivered")
    event = json.loads(fake_webhook_receiver.hooks()[0].raw)
    assert event["event"] == "chat.finished" and event["subject"] == {"type": "chat", "id": chat["id"]}
    assert event["data"] == {"user_id": admin["id"], "chat_id": chat["id"], "message_id": "a1", "model_id": "llama",
                             "url": f"/c/{chat['id']}", "message": "Hello!"}
