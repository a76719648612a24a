"""``/api/events`` without a worker: Open WebUI's catalog, the webhooks' CRUD and checks, and the deliveries an
event leaves queued in the transaction of the change it reports."""
from __future__ import annotations

import time

import pytest

from shared.db import session_scope
from shared.models import WebhookDelivery
from shared.services import webhooks
from tests.helpers import bearer

HOOK = "http://93.184.215.14/hook"
"""A public address: accepted, and never called (no worker runs here)."""


def test_the_catalog_is_open_webuis(client, admin):
    body = client.get("/api/events", headers=bearer(admin["token"])).get_json()
    assert body["schema"] == "0.12.4" and len(body["events"]) == 191
    assert {"event": "chat.created", "description": "A chat was created.", "message": "Chat created"} in body["events"]


def test_webhooks_are_created_listed_updated_and_deleted(client, admin):
    headers = bearer(admin["token"])
    created = client.post("/api/events/webhooks", headers=headers, json={"url": HOOK}).get_json()
    assert created["name"] == "Webhook" and created["events"] == ["*"] and created["enabled"] is True
    assert created["targets"] is None and len(created["secret"]) == 64
    updated = client.put(f"/api/events/webhooks/{created['id']}", headers=headers,
                         json={"name": "Audit", "events": ["chat.*", "auth.signup"], "enabled": False}).get_json()
    assert (updated["name"], updated["events"], updated["enabled"]) == ("Audit", ["chat.*", "auth.signup"], False)
    assert updated["secret"] == created["secret"] and updated["url"] == HOOK
    assert client.get("/api/events/webhooks", headers=headers).get_json() == [updated]
    assert client.delete(f"/api/events/webhooks/{created['id']}", headers=headers).get_json() == {"status": True}
    assert client.get("/api/events/webhooks", headers=headers).get_json() == []
    missing = client.delete(f"/api/events/webhooks/{created['id']}", headers=headers)
    assert missing.status_code == 404 and missing.get_json() == {"detail": "Webhook not found"}


@pytest.mark.parametrize(("url", "detail"), [
    ("http://127.0.0.1:9/hook", "private or local network address"),
    ("http://10.1.2.3/hook", "private or local network address"),
    ("http://169.254.169.254/latest/meta-data/", "private or local network address"),
    ("ftp://93.184.215.14/hook", "Use an HTTP(S) URL."),
])
def test_a_url_that_is_not_public_is_refused_at_create_time(client, admin, url, detail):
    refused = client.post("/api/events/webhooks", headers=bearer(admin["token"]), json={"url": url})
    assert refused.status_code == 400 and detail in refused.get_json()["detail"]
    assert client.get("/api/events/webhooks", headers=bearer(admin["token"])).get_json() == []


def test_loopback_is_allowed_when_local_fetches_are(client, admin, monkeypatch):
    monkeypatch.setenv("ENABLE_LOCAL_WEB_FETCH", "true")
    created = client.post("/api/events/webhooks", headers=bearer(admin["token"]), json={"url": "http://127.0.0.1:9/h"})
    assert created.status_code == 200, created.get_json()


@pytest.mark.parametrize(("form", "detail"), [
    ({"events": ["chat.nope"]}, "Invalid event: chat.nope"),
    ({"events": ["nothing.*"]}, "Invalid event pattern: nothing.*"),
    ({"targets": [{"type": "robot", "id": "x"}]}, "Invalid target"),
])
def test_unknown_events_and_targets_are_refused(client, admin, form, detail):
    refused = client.post("/api/events/webhooks", headers=bearer(admin["token"]), json={"url": HOOK, **form})
    assert refused.status_code == 400 and refused.get_json() == {"detail": detail}


def test_an_event_leaves_one_pending_delivery_per_subscribed_webhook(client, admin, make_user):
    headers = bearer(admin["token"])
    everything = client.post("/api/events/webhooks", headers=headers, json={"url": HOOK}).get_json()
    chats = client.post("/api/events/webhooks", headers=headers, json={"url": HOOK, "events": ["chat.*"]}).get_json()
    someone = make_user()
    others = client.post("/api/events/webhooks", headers=headers,
                         json={"url": HOOK, "events": ["chat.*"], "targets": [{"type": "user", "id": someone["id"]}]})
    made = client.post("/api/v1/chats/new", headers=headers, json={"chat": {"title": "Harbor"}}).get_json()
    (delivery,) = client.get(f"/api/events/webhooks/{chats['id']}/deliveries", headers=headers).get_json()["items"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 0 and delivery["job_id"]
    assert delivery["payload"]["subject"] == {"type": "chat", "id": made["id"]}
    job = client.get(f"/api/v1/jobs/{delivery['job_id']}", headers=headers).get_json()
    assert job["status"] == "queued" and job["kind"] == "webhook.delivery"
    events = [d["event"] for d in client.get(f"/api/events/webhooks/{everything['id']}/deliveries",
                                             headers=headers).get_json()["items"]]
    assert events.count("chat.created") == 1 and "user.created" in events
    target = others.get_json()["id"]
    assert client.get(f"/api/events/webhooks/{target}/deliveries", headers=headers).get_json()["total"] == 0


def test_a_pending_delivery_cannot_be_redelivered(client, admin):
    headers = bearer(admin["token"])
    hook = client.post("/api/events/webhooks", headers=headers, json={"url": HOOK}).get_json()
    (own,) = client.get(f"/api/events/webhooks/{hook['id']}/deliveries", headers=headers).get_json()["items"]
    assert own["event"] == "config.webhook.updated" and own["payload"]["data"]["action"] == "created"
    again = client.post(f"/api/events/webhooks/{hook['id']}/deliveries/{own['id']}/redeliver", headers=headers)
    assert again.status_code == 409


def test_deliveries_that_ended_long_ago_are_pruned(client, admin):
    hook = client.post("/api/events/webhooks", headers=bearer(admin["token"]), json={"url": HOOK}).get_json()
    long_ago = int(time.time()) - 31 * 86400
    with session_scope() as session:
        for status in ("delivered", "dead", "failed", "pending"):
            session.add(WebhookDelivery(webhook_id=hook["id"], event="chat.created", payload={}, status=status,
                                        attempts=1, created_at=long_ago, updated_at=long_ago))
    with session_scope() as session:
        assert webhooks.prune_deliveries(session) == 2
    left = client.get(f"/api/events/webhooks/{hook['id']}/deliveries", headers=bearer(admin["token"])).get_json()
    assert sorted(d["status"] for d in left["items"]) == ["failed", "pending", "pending"]  # with its own event's


def test_sign_up_and_sign_in_are_events(client, admin):
    headers = bearer(admin["token"])
    hook = client.post("/api/events/webhooks", headers=headers, json={"url": HOOK, "events": ["auth.*", "user.*"]})
    admin_config = client.get("/api/v1/auths/admin/config", headers=headers).get_json()
    opened = client.post("/api/v1/auths/admin/config", headers=headers, json={**admin_config, "ENABLE_SIGNUP": True})
    assert opened.status_code == 200, opened.get_json()
    signed_up = client.post("/api/v1/auths/signup", json={"name": "Bo", "email": "bo@example.com",
                                                          "password": "s3cret-pass"}).get_json()
    client.post("/api/v1/auths/signin", json={"email": "bo@example.com", "password": "s3cret-pass"})
    listed = client.get(f"/api/events/webhooks/{hook.get_json()['id']}/deliveries", headers=headers).get_json()
    events = {d["event"]: d["payload"] for d in listed["items"]}
    assert set(events) == {"user.created", "auth.signup", "auth.login"}
    assert events["auth.signup"]["data"] == {"email": "bo@example.com"}
    assert events["auth.login"]["data"] == {"auth_method": "password"} and events["auth.login"]["source"] == "password"
    assert {payload["subject"]["id"] for payload in events.values()} == {signed_up["id"]}
