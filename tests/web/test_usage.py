"""/api/usage: models in use (from the app's socket pings) and active users, for admins."""
from __future__ import annotations

from shared.services import presence
from tests.helpers import bearer


def test_admin_sees_models_in_use_and_active_users(client, admin, make_user):
    make_user()
    presence.model_used("llama-fake:latest")
    presence.model_used("gpt-fake")
    answer = client.get("/api/usage", headers=bearer(admin["token"])).get_json()
    assert answer["model_ids"] == ["gpt-fake", "llama-fake:latest"]
    assert answer["user_count"] == 2


def test_models_drop_out_after_the_pings_stop(client, admin, monkeypatch):
    presence.model_used("llama-fake:latest")
    monkeypatch.setattr(presence.time, "time", lambda: 10**10)
    assert client.get("/api/usage", headers=bearer(admin["token"])).get_json()["model_ids"] == []


def test_users_are_refused(client, admin, make_user):
    user = make_user()
    response = client.get("/api/usage", headers=bearer(user["token"]))
    assert response.status_code == 403
    assert response.get_json() == {"detail": presence.USAGE_ADMIN_ONLY}
