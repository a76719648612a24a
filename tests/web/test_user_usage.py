"""GET /api/v1/users/usage: the caller's own usage figures, computed from the messages of its chats, in Open
WebUI 0.12.4's ``UserUsageResponse`` (checked against its own pydantic models, read from the wheel)."""
from __future__ import annotations

import ast
import time
import zipfile
from datetime import datetime, timezone

import pytest

from shared.services import user_usage
from tests.helpers import bearer
from tests.unit.test_elo import _wheel

DAY = 86400


def open_webui_usage_response():
    """``UserUsageResponse`` (and the models it nests) as Open WebUI 0.12.4's routers/users.py declares it."""
    wheel = _wheel()
    if wheel is None:
        pytest.skip("the Open WebUI 0.12.4 wheel is not here (scripts/test.sh fetches it)")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("open_webui/routers/users.py").decode()
    classes = [node for node in ast.parse(source).body
               if isinstance(node, ast.ClassDef) and node.name.startswith("UserUsage")]
    namespace: dict = {}
    exec("from typing import Optional\nfrom pydantic import BaseModel, Field", namespace)
    exec(compile(ast.Module(classes, type_ignores=[]), "open_webui/routers/users.py", "exec"), namespace)
    for node in classes:  # its annotations are strings (``from __future__ import annotations``)
        namespace[node.name].model_rebuild(_types_namespace=namespace)
    return namespace["UserUsageResponse"]


def _message(mid: str, role: str, at: int, **extra) -> dict:
    return {"id": mid, "parentId": None, "childrenIds": [], "role": role, "content": mid, "timestamp": at, **extra}


def _chat(client, headers, title: str, messages: list[dict]) -> str:
    chat = {"title": title, "history": {"messages": {m["id"]: m for m in messages}, "currentId": messages[-1]["id"]},
            "messages": messages}
    return client.post("/api/v1/chats/new", json={"chat": chat}, headers=headers).get_json()["id"]


@pytest.fixture
def midnight() -> int:
    """Midnight (UTC) three days ago: the messages below fall on that day, the next and the one after."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(today.timestamp()) - 3 * DAY


def test_figures_from_the_users_chats(client, make_user, midnight):
    user = make_user()
    headers = bearer(user["token"])
    d0, d1 = midnight + 3600, midnight + DAY + 3600
    tool_call = [{"type": "function_call", "name": "get_weather"}, {"type": "tool_call", "function": {"name": "get_weather"}}]
    _chat(client, headers, "weather", [
        _message("u1", "user", d0),
        _message("a1", "assistant", d0 + 60, model="llama", usage={"prompt_tokens": 10, "completion_tokens": 5},
                 output=tool_call),
        _message("u2", "user", d0 + 120),
        _message("a2", "assistant", d0 + 180, model="llama", usage={"input_tokens": 2, "output_tokens": 3}),
        _message("u3", "user", d0 + 4 * 3600),  # after a long pause: not chat time
    ])
    _chat(client, headers, "code", [
        _message("u4", "user", d1),
        _message("a4", "assistant", d1 + 30, model="qwen", info={"usage": {"eval_count": 7, "prompt_eval_count": 1}}),
    ])
    other = make_user("other@example.com")
    _chat(client, bearer(other["token"]), "not mine", [_message("x", "assistant", d0, model="gpt", usage={
        "prompt_tokens": 1000})])

    end = midnight + 2 * DAY + 3600
    response = client.get(f"/api/v1/users/usage?start_date={midnight}&end_date={end}", headers=headers)
    assert response.status_code == 200
    got = response.get_json()
    model = open_webui_usage_response()
    assert model.model_validate(got).model_dump() == got  # Open WebUI's shape, no key more or less

    assert got["totals"] == {
        "lifetime_tokens": 28, "input_tokens": 13, "output_tokens": 15, "peak_daily_tokens": 20,
        "longest_chat_seconds": 180, "current_streak": 0, "longest_streak": 2, "total_chats": 2,
        "active_days": 2, "models_used": 2, "messages": 7, "user_messages": 4, "assistant_messages": 3}
    day0, day1, day2 = (datetime.fromtimestamp(midnight + n * DAY, timezone.utc).strftime("%Y-%m-%d") for n in range(3))
    assert got["heatmap"] == [
        {"date": day0, "messages": 5, "chats": 1, "tokens": 20, "models": {"llama": 2}},
        {"date": day1, "messages": 2, "chats": 1, "tokens": 8, "models": {"qwen": 1}},
        {"date": day2, "messages": 0, "chats": 0, "tokens": 0, "models": {}}]
    assert got["cumulative_heatmap"][-1] == {"date": day2, "messages": 7, "chats": 2, "tokens": 28,
                                             "models": {"llama": 2, "qwen": 1}}
    assert sum(week["messages"] for week in got["weekly_heatmap"]) == 7
    assert got["top_models"] == [
        {"model_id": "llama", "messages": 2, "input_tokens": 12, "output_tokens": 8, "total_tokens": 20},
        {"model_id": "qwen", "messages": 1, "input_tokens": 1, "output_tokens": 7, "total_tokens": 8}]
    assert got["top_tools"] == [{"name": "get_weather", "count": 2}]
    assert got["insights"] == {"most_used_model": "llama", "average_tokens_per_chat": 14.0,
                               "average_messages_per_active_day": 3.5, "user_message_share": 57.1,
                               "assistant_message_share": 42.9}
    assert got["period"] == {"start_date": midnight, "end_date": end, "days": 3}


def test_default_period_and_a_user_without_chats(client, make_user):
    user = make_user()
    before = int(time.time())
    got = client.get("/api/v1/users/usage?days=7", headers=bearer(user["token"])).get_json()
    assert got["period"]["days"] == 7 and got["period"]["end_date"] >= before
    assert len(got["heatmap"]) in (7, 8)  # the first day's date, then one a day up to today
    assert got["totals"]["messages"] == 0 and got["insights"]["most_used_model"] is None
    assert got["top_models"] == [] and got["top_tools"] == []
    default = client.get("/api/v1/users/usage", headers=bearer(user["token"])).get_json()
    assert default["period"]["days"] == user_usage.DEFAULT_DAYS


@pytest.mark.parametrize("query, status, detail", [
    ("days=6", 422, None),
    ("days=733", 422, None),
    ("start_date=2000000000&end_date=1900000000", 400, user_usage.BAD_PERIOD),
])
def test_bad_periods(client, make_user, query, status, detail):
    response = client.get(f"/api/v1/users/usage?{query}", headers=bearer(make_user()["token"]))
    assert response.status_code == status
    assert "detail" in response.get_json()
    if detail:
        assert response.get_json() == {"detail": detail}


def test_pending_users_are_refused(client, make_user):
    pending = make_user("pending@example.com", role="pending")
    assert client.get("/api/v1/users/usage", headers=bearer(pending["token"])).status_code == 401


def test_odd_messages_a_client_stored_do_not_break_the_page(client, make_user):
    user = make_user()
    headers = bearer(user["token"])
    _chat(client, headers, "odd", [
        _message("o1", "assistant", "yesterday", model=["not", "a", "name"], usage="many"),
        _message("o2", "assistant", 1e300, model="llama", usage={"prompt_tokens": "x", "completion_tokens": None}),
    ])
    response = client.get("/api/v1/users/usage?days=7", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["totals"]["lifetime_tokens"] == 0
