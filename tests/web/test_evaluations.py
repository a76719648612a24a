"""``/api/v1/evaluations``: feedback as the web app's rating buttons send it, who sees which, the admin's lists,
the arena settings; the leaderboard through a real worker."""
from __future__ import annotations

import time

from sqlalchemy import select, update

from shared.db import session_scope
from shared.models import Feedback, Job
from shared.services import evaluations
from tests.helpers import bearer
from tests.jobs.worker import worker  # noqa: F401  (the fixture)


def rating(model: str, value: int, siblings: list[str] | None = None, **extra) -> dict:
    """What the web app posts when a reply is rated (thumbs up: 1, down: -1)."""
    return {"type": "rating", "data": {"rating": value, "model_id": model, "sibling_model_ids": siblings or [],
                                        "reason": "", "comment": "", **extra},
            "meta": {"chat_id": "c1", "message_id": "m1", "base_models": {}, "tags": []},
            "snapshot": {"chat": {"id": "c1", "title": "t"}}, "id": "ignored", "user_id": "ignored"}


def rate(client, token: str, model: str, value: int, siblings: list[str] | None = None, **extra) -> dict:
    response = client.post("/api/v1/evaluations/feedback", headers=bearer(token),
                           json=rating(model, value, siblings, **extra))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_feedback_is_stored_as_sent_and_the_server_sets_who_and_when(client, admin):
    saved = rate(client, admin["token"], "llama", 1, ["qwen"], reason="Accurate information")
    assert saved["user_id"] == admin["id"] and saved["id"] != "ignored" and saved["version"] == 0
    assert saved["data"]["reason"] == "Accurate information" and saved["snapshot"] == {"chat": {"id": "c1",
                                                                                                 "title": "t"}}
    changed = client.post(f"/api/v1/evaluations/feedback/{saved['id']}", headers=bearer(admin["token"]),
                          json=rating("llama", -1, ["qwen"], comment="on second thought"))
    assert changed.status_code == 200 and changed.get_json()["data"]["rating"] == -1
    got = client.get(f"/api/v1/evaluations/feedback/{saved['id']}", headers=bearer(admin["token"])).get_json()
    assert got["data"]["comment"] == "on second thought"


def test_a_user_sees_and_changes_only_their_own_feedback(client, admin, make_user):
    mine = rate(client, make_user()["token"], "llama", 1)
    other = make_user("other@example.com")["token"]
    path = f"/api/v1/evaluations/feedback/{mine['id']}"
    assert client.get(path, headers=bearer(other)).status_code == 404
    assert client.post(path, headers=bearer(other), json=rating("llama", -1)).status_code == 404
    assert client.delete(path, headers=bearer(other)).status_code == 404
    assert client.get(path, headers=bearer(admin["token"])).status_code == 200  # an admin sees every rating
    assert client.get("/api/v1/evaluations/feedbacks/user", headers=bearer(other)).get_json() == {"items": [],
                                                                                                    "total": 0}
    assert client.get("/api/v1/evaluations/feedbacks/list", headers=bearer(other)).status_code == 401


def test_bad_feedback_is_a_clear_400(client, admin):
    for body in ({}, {"type": ""}, {"type": "rating", "data": "thumbs up"}, {"type": "rating", "meta": [1]}):
        response = client.post("/api/v1/evaluations/feedback", headers=bearer(admin["token"]), json=body)
        assert response.status_code in (400, 422) and response.get_json()["detail"], body


def test_the_admins_lists_exports_and_model_ids(client, admin, make_user):
    user = make_user()
    rate(client, user["token"], "llama", 1, ["qwen"])
    rate(client, user["token"], "qwen", -1, ["llama"])
    rate(client, admin["token"], "gpt-fake", 1)
    headers = bearer(admin["token"])
    listed = client.get("/api/v1/evaluations/feedbacks/list?order_by=model_id&direction=asc", headers=headers)
    body = listed.get_json()
    assert body["total"] == 3 and [i["data"]["model_id"] for i in body["items"]] == ["gpt-fake", "llama", "qwen"]
    assert "snapshot" not in body["items"][0] and body["items"][1]["user"]["email"] == "user@example.com"
    only = client.get("/api/v1/evaluations/feedbacks/list?model_id=qwen", headers=headers).get_json()
    assert [i["data"]["model_id"] for i in only["items"]] == ["qwen"]
    exported = client.get("/api/v1/evaluations/feedbacks/all/export?model_id=llama", headers=headers).get_json()
    assert [e["data"]["model_id"] for e in exported] == ["llama"] and "snapshot" in exported[0]
    assert client.get("/api/v1/evaluations/feedbacks/models", headers=headers).get_json() == ["gpt-fake", "llama",
                                                                                              "qwen"]
    assert len(client.get("/api/v1/evaluations/feedbacks/all/ids", headers=headers).get_json()) == 3
    mine = client.get("/api/v1/evaluations/feedbacks/user", headers=bearer(user["token"])).get_json()
    assert mine["total"] == 2
    assert client.delete("/api/v1/evaluations/feedbacks", headers=bearer(user["token"])).get_json() is True
    assert client.get("/api/v1/evaluations/feedbacks/list", headers=headers).get_json()["total"] == 1
    assert client.delete("/api/v1/evaluations/feedbacks/all", headers=headers).get_json() is True
    assert client.get("/api/v1/evaluations/feedbacks/list", headers=headers).get_json()["total"] == 0


def test_a_models_daily_history(client, admin):
    for value in (1, 1, -1):
        rate(client, admin["token"], "llama", value, ["qwen"])
    with session_scope() as session:  # one of them two days ago
        session.execute(update(Feedback).where(Feedback.data["rating"].as_string() == "-1")
                        .values(created_at=int(time.time()) - 2 * 86400))
    history = client.get("/api/v1/evaluations/leaderboard/llama/history?days=3",
                         headers=bearer(admin["token"])).get_json()
    assert history["model_id"] == "llama" and len(history["history"]) == 3
    assert [(d["won"], d["lost"]) for d in history["history"]] == [(0, 1), (0, 0), (2, 0)]


def test_the_arena_settings(client, admin):
    headers = bearer(admin["token"])
    assert client.get("/api/v1/evaluations/config", headers=headers).get_json() == {
        "ENABLE_EVALUATION_ARENA_MODELS": True, "EVALUATION_ARENA_MODELS": []}
    arena = [{"id": "arena-1", "name": "Arena", "meta": {"model_ids": ["llama", "qwen"]}}]
    saved = client.post("/api/v1/evaluations/config", headers=headers, json={"EVALUATION_ARENA_MODELS": arena})
    assert saved.get_json() == {"ENABLE_EVALUATION_ARENA_MODELS": True, "EVALUATION_ARENA_MODELS": arena}


def leaderboard_jobs() -> int:
    with session_scope() as session:
        return len(session.scalars(select(Job.id).where(Job.kind == "evaluations.leaderboard")).all())


def test_the_leaderboard_is_computed_by_a_job_when_feedback_changes_and_then_served_from_the_cache(
        client, admin, worker):
    headers = bearer(admin["token"])
    for model, value, siblings in (("llama", 1, ["qwen", "phi"]), ("qwen", -1, ["llama"]), ("phi", 1, ["qwen"])):
        rate(client, admin["token"], model, value, siblings, tags=["coding"])
    with session_scope() as session:
        expected = evaluations.leaderboard(evaluations.rated(session))
    deadline = time.monotonic() + 20
    while evaluations.cached_leaderboard() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the job each rating enqueued
    jobs = leaderboard_jobs()
    board = client.get("/api/v1/evaluations/leaderboard", headers=headers)
    assert board.status_code == 200 and board.get_json() == expected
    assert [e["model_id"] for e in expected["entries"]][0] == "llama" and leaderboard_jobs() == jobs  # the cache
    rate(client, admin["token"], "qwen", 1, ["llama"])
    assert evaluations.cached_leaderboard() is None or evaluations.cached_leaderboard() != expected
    fresh = client.get("/api/v1/evaluations/leaderboard", headers=headers).get_json()
    with session_scope() as session:
        assert fresh == evaluations.leaderboard(evaluations.rated(session))


def test_a_query_re_ranks_by_how_close_each_ratings_tags_are(client, admin, worker):
    """Each rating weighs as much as its closest tag is to the query: the job embeds them with the configured
    embedding engine, as Open WebUI does, and the board differs from the unweighted one."""
    for model, siblings, tags in (("llama", ["qwen"], ["python coding"]), ("qwen", ["llama"], ["cooking pasta"]),
                                  ("qwen", ["llama"], ["cooking pasta"])):
        rate(client, admin["token"], model, 1, siblings, tags=tags)
    response = client.get("/api/v1/evaluations/leaderboard?query=programming", headers=bearer(admin["token"]))
    assert response.status_code == 200, response.get_json()
    from shared.rag.embedding import get_embedder

    with session_scope() as session:
        rows, embedder = evaluations.rated(session), get_embedder(session)
    tags = evaluations.feedback_tags(rows)
    weights = evaluations.similarities(rows, embedder.embed(["programming", *tags]), tags)
    assert response.get_json() == evaluations.leaderboard(rows, weights)
    assert len({round(weight, 6) for weight in weights.values()}) == 2  # the two tags weigh differently
    assert response.get_json() != evaluations.leaderboard(rows)


def test_the_leaderboard_version_moves_on_once_the_feedback_commits(admin):
    """A job that reads the version while a rating is still uncommitted must not keep its board as current."""
    before = evaluations.version()
    with session_scope() as session:
        session.add(Feedback(user_id=admin["id"], version=0, type="rating", data={"rating": 1}))
        session.info[evaluations.CHANGED] = True  # what every feedback change marks
        session.flush()
        assert evaluations.version() == before  # a job reading now sees the old feedback: the old version
    assert evaluations.version() == before + 1
    try:
        with session_scope() as session:
            session.add(Feedback(user_id=admin["id"], version=0, type="rating", data={"rating": -1}))
            session.info[evaluations.CHANGED] = True
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert evaluations.version() == before + 1

    evaluations.remember({"entries": ["new"]}, before + 1)
    evaluations.remember({"entries": ["old"]}, before)  # a slower job for the older feedback ends last
    assert evaluations.cached_leaderboard() == {"entries": ["new"]}
