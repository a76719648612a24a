"""The authorization sweep: every route of the URL map called as an anonymous caller, a pending account, a
user on its own objects, another user on them, and an admin, against the access class of its row in
``tests/web/route_access.py``."""
from __future__ import annotations

import re

import pytest

from shared.services.llm import registry
from tests.conftest import reset_state
from tests.web.roles import Caller, Callers, Owned, configure_models, make_callers, open_workspace, store_models
from tests.web.route_access import (
    ADMIN, ADMIN_FEATURE, EXCLUDED, FOREIGN_STATUS, MODEL, OLLAMA_MODEL, PATH_VALUES, PENDING_OK, PUBLIC, ROUTES, Route,
)

ROLES = ("anonymous", "pending", "other", "user", "admin")
"""In this order: the refused roles before the ones whose calls may change or delete the objects."""
PARAMETER = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


@pytest.fixture(scope="module")
def clean_state(database):
    """The callers live for the whole sweep (instead of each test's cleanup): empty the state once, after."""
    yield
    reset_state()


@pytest.fixture(scope="module")
def callers(app) -> Callers:
    client = app.test_client()
    made = make_callers(client)
    open_workspace(client, made.admin)
    configure_models(client, made.admin)
    return made


def url_map_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule not in EXCLUDED
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_of_the_url_map_has_a_row(app):
    routes = url_map_routes(app)
    missing = sorted(routes - ROUTES.keys())
    assert not missing, f"routes without a row in tests/web/route_access.py: {missing}"
    stale = sorted(ROUTES.keys() - routes)
    assert not stale, f"rows of tests/web/route_access.py for routes that no longer exist: {stale}"


def expected_refusal(route: Route, role: str) -> int | None:
    """The status that refuses ``role`` on ``route``, None when it is let through."""
    if route.access == PUBLIC or role == "admin":
        return None
    if role == "anonymous":
        return 401
    if role == "pending":
        return None if route.access == PENDING_OK else 401
    if route.access == ADMIN:
        return 401
    if route.access == ADMIN_FEATURE:
        return 403
    return FOREIGN_STATUS.get(route.access) if role == "other" else None


def roles_for(route: Route) -> tuple[str, ...]:
    """Another user is tried only where the route names an object (or a model) of someone else."""
    return tuple(role for role in ROLES if role != "other" or route.access in FOREIGN_STATUS)


def call(client, method: str, rule: str, route: Route, caller: Caller | None, owned: Owned):
    overrides = route.path(owned) if route.path else {}
    values = {name: overrides[name] if name in overrides else PATH_VALUES[name](owned)
              for name in PARAMETER.findall(rule)}
    query = route.query(owned) if callable(route.query) else route.query
    url = PARAMETER.sub(lambda match: values[match.group(1)], rule) + (f"?{query}" if query else "")
    kwargs = {}
    if route.form is not None:
        kwargs.update(data=route.form(owned), content_type="multipart/form-data")
    elif route.body is not None:
        kwargs.update(json=route.body(owned))
    headers = {"Prefer": "respond-async", **(caller.headers if caller else {})}
    return client.open(url, method=method, headers=headers, **kwargs)


def _detail(response) -> str:
    if response.mimetype != "application/json":
        return f"({response.mimetype})"  # a stream is left unread
    body = response.get_json(silent=True)
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:200]


@pytest.mark.parametrize(("method", "rule"), sorted(ROUTES), ids=lambda value: value)
def test_route_access(app, callers: Callers, method: str, rule: str):
    route = ROUTES[(method, rule)]
    client = app.test_client()
    owned_by_user = Owned(client, callers.user, callers.admin)
    owned_by_admin = Owned(client, callers.admin, callers.admin)
    owned_by_admin.hidden_models = True  # admins use any model
    callers_by_role = {"anonymous": None, "pending": callers.pending, "other": callers.other,
                       "user": callers.user, "admin": callers.admin}
    wrong = []
    for role in roles_for(route):
        owned = owned_by_admin if role == "admin" else owned_by_user
        owned_by_user.hidden_models = role == "other" and route.access in (MODEL, OLLAMA_MODEL)
        if registry.cached() is None:
            store_models()  # a connection change (an admin row) cleared the registry
        caller = callers_by_role[role]
        response = call(client, method, rule, route, caller, owned)
        if route.spends_session and caller is not None:
            caller.sign_in_again(client)
        status, refusal = response.status_code, expected_refusal(route, role)
        if refusal is None and not (status < 400 or status in route.also_ok):
            wrong.append(f"{role}: expected to be let through ({route.access}), got {status} {_detail(response)}")
        elif refusal is not None and status != refusal:
            wrong.append(f"{role}: expected {refusal} ({route.access}), got {status} {_detail(response)}")
        response.close()  # a streamed answer ends here, unread
    assert not wrong, f"{method} {rule}:\n" + "\n".join(wrong)
