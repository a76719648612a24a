"""Request rate limits (flask-limiter on Redis) and the per-user cap on active jobs."""
from __future__ import annotations

import io

import requests

from tests.e2e.processes import web_server
from tests.helpers import bearer

ASYNC = {"Prefer": "respond-async"}


def set_limits(client, admin: dict, **values) -> dict:
    response = client.post("/api/v1/configs/rate_limits", json=values, headers=bearer(admin["token"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def signin(client, address: str, password: str = "s3cret-pass"):
    return client.post("/api/v1/auths/signin", json={"email": "admin@example.com", "password": password},
                       environ_base={"REMOTE_ADDR": address})


def complete(client, headers: dict):
    return client.post("/api/chat/completions", json={"model": "none", "messages": []}, headers=headers)


def upload(client, headers: dict):
    return client.post("/api/v1/files/?process=false", headers=headers,
                       data={"file": (io.BytesIO(b"some bytes"), "notes.txt")}, content_type="multipart/form-data")


def assert_limited(response) -> None:
    assert response.status_code == 429, response.get_json()
    assert "Too many" in response.get_json()["detail"]
    assert 0 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Remaining"] == "0"


def test_the_admin_reads_and_changes_the_limits(client, admin, make_user):
    user = make_user()
    defaults = client.get("/api/v1/configs/rate_limits", headers=bearer(admin["token"])).get_json()
    assert defaults["ENABLE_RATE_LIMITS"] is True and defaults["RATE_LIMIT_SIGNIN"] == "30/minute"
    assert defaults["JOB_MAX_ACTIVE_PER_USER"] == 0  # as the tests configure it
    assert set_limits(client, admin, RATE_LIMIT_IMAGES="5/second;100/day")["RATE_LIMIT_IMAGES"] == "5/second;100/day"
    refused = client.post("/api/v1/configs/rate_limits", json={"RATE_LIMIT_AUDIO": "often"},
                          headers=bearer(admin["token"]))
    assert refused.status_code == 400 and "RATE_LIMIT_AUDIO" in refused.get_json()["detail"]
    assert client.get("/api/v1/configs/rate_limits", headers=bearer(user["token"])).status_code == 401


def test_sign_ins_are_limited_per_address(client, admin):
    set_limits(client, admin, RATE_LIMIT_SIGNIN="3/minute")
    for remaining in ("2", "1", "0"):
        response = signin(client, "10.0.0.1")
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3" and response.headers["RateLimit-Remaining"] == remaining
    assert_limited(signin(client, "10.0.0.1"))
    assert signin(client, "10.0.0.2").status_code == 200


def test_uploads_are_limited_per_api_key_and_per_user(client, admin, make_user):
    set_limits(client, admin, RATE_LIMIT_UPLOADS="2/minute")
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    key = client.post("/api/v1/auths/api_key", headers=bearer(alice["token"])).get_json()["api_key"]
    for _ in range(2):
        assert upload(client, bearer(alice["token"])).status_code == 200
    assert_limited(upload(client, bearer(alice["token"])))
    # her API key has a budget of its own, as has another user
    for _ in range(2):
        assert upload(client, bearer(key)).status_code == 200
    assert_limited(upload(client, bearer(key)))
    assert upload(client, bearer(bob["token"])).status_code == 200
    # other categories keep theirs
    assert signin(client, "10.0.0.9").status_code == 200


def test_a_completion_past_the_limit_is_refused_before_any_work(client, admin, make_user):
    set_limits(client, admin, RATE_LIMIT_COMPLETIONS="0/minute")
    alice = make_user("alice@example.com")
    assert_limited(complete(client, bearer(alice["token"])))
    openai_style = client.post("/openai/chat/completions", json={"model": "none", "messages": []},
                               headers=bearer(alice["token"]))
    assert openai_style.status_code == 429 and "Too many" in openai_style.get_json()["error"]["message"]
    assert openai_style.headers["Retry-After"]


def test_disabled_limits_do_not_count(client, admin):
    set_limits(client, admin, RATE_LIMIT_SIGNIN="1/minute", ENABLE_RATE_LIMITS=False)
    for _ in range(3):
        response = signin(client, "10.0.0.3")
        assert response.status_code == 200 and "RateLimit-Limit" not in response.headers


def test_limits_are_shared_by_web_processes_and_changes_apply_without_restart(admin):
    def sign_in(url: str) -> requests.Response:
        return requests.post(f"{url}/api/v1/auths/signin",
                             json={"email": "admin@example.com", "password": "s3cret-pass"}, timeout=10)

    with web_server() as first, web_server() as second:
        assert sign_in(second).headers["RateLimit-Limit"] == "30"  # the second process has read the defaults
        changed = requests.post(f"{first}/api/v1/configs/rate_limits", json={"RATE_LIMIT_SIGNIN": "3/minute"},
                                headers=bearer(admin["token"]), timeout=10)
        assert changed.status_code == 200
        answers = [sign_in(url) for url in (first, second, first, second)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["RateLimit-Limit"] == "3"
        assert int(answers[-1].headers["Retry-After"]) >= 0 and answers[-1].json()["detail"]


def test_a_user_cannot_have_more_active_jobs_than_the_cap(client, admin, make_user):
    set_limits(client, admin, JOB_MAX_ACTIVE_PER_USER=2)
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")

    def index(user: dict):
        return client.post("/api/v1/retrieval/process/text", json={"name": "n", "content": "some text"},
                           headers={**bearer(user["token"]), **ASYNC})

    assert [index(alice).status_code for _ in range(2)] == [202, 202]  # no worker: they stay queued
    refused = index(alice)
    assert refused.status_code == 429
    assert "(2)" in refused.get_json()["detail"] and refused.headers["Retry-After"]
    assert index(bob).status_code == 202
    set_limits(client, admin, JOB_MAX_ACTIVE_PER_USER=0)
    assert index(alice).status_code == 202



def test_behind_a_proxy_the_forwarded_address_is_counted(client, admin):
    set_limits(client, admin, RATE_LIMIT_SIGNIN="1/minute")

    def sign_in(url: str, address: str) -> int:
        return requests.post(f"{url}/api/v1/auths/signin", headers={"X-Forwarded-For": address}, timeout=10,
                             json={"email": "admin@example.com", "password": "s3cret-pass"}).status_code

    with web_server({"PROXY_HOPS": "1"}) as url:
        answers = [sign_in(url, address) for address in ("203.0.113.7", "203.0.113.7", "203.0.113.8")]
        assert answers == [200, 429, 200]
    with web_server() as url:  # without the setting the header is the client's to forge, so it is ignored
        assert [sign_in(url, "203.0.113.9"), sign_in(url, "203.0.113.10")] == [200, 429]
