"""The real Open WebUI web app (0.12.4) in headless Chromium, as an administrator: every admin page, each tab of
Admin Settings and every workspace page (and its create page) loads without an API call answering an error
and without a script error; saving each settings tab stores what the tab read (its settings read back the same
through the API afterwards, values set beforehand included). Screenshots: test-artifacts/webui/."""
from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.test_webui_browser import installed_webui  # noqa: F401
from tests.e2e.webui_driver import WebApp, browser_available

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium and chromium-driver")

ADMIN = ("Ada Admin", "ada-admin@example.com", "browser-pass-1")
SETTINGS_TABS = ("general", "authentication", "interface", "connections", "models", "subagents", "integrations",
                 "documents", "audio", "images", "web", "code-execution", "pipelines", "evaluations", "db")
PAGES = (
    "/admin/users/overview", "/admin/users/groups", "/admin/evaluations/leaderboard", "/admin/evaluations/feedback",
    "/admin/functions", *(f"/admin/settings/{tab}" for tab in SETTINGS_TABS),
    "/workspace/models", "/workspace/models/create", "/workspace/knowledge", "/workspace/knowledge/create",
    "/workspace/prompts", "/workspace/prompts/create", "/workspace/tools", "/workspace/tools/create",
    "/workspace/skills", "/workspace/skills/create",
)
SAVED_BY = {
    "general": ("/api/v1/auths/admin/config",),
    "authentication": ("/api/v1/auths/admin/config", "/api/v1/auths/admin/config/ldap"),
    "interface": ("/api/v1/tasks/config",),
    "connections": ("/ollama/config", "/openai/config", "/api/v1/configs/connections"),
    "models": ("/api/v1/configs/models",),
    "subagents": ("/api/v1/configs/subagents",),
    "integrations": ("/api/v1/configs/tool_servers",),
    "documents": ("/api/v1/retrieval/config", "/api/v1/retrieval/embedding"),
    "audio": ("/api/v1/audio/config",),
    "images": ("/api/v1/images/config",),
    "web": ("/api/v1/retrieval/config",),
    "code-execution": ("/api/v1/configs/code_execution",),
    "evaluations": ("/api/v1/evaluations/config",),
}
"""Each settings tab with a Save button, and the settings it saves."""
SET_BEFORE = {
    "/api/v1/configs/subagents": {"SUBAGENTS_SYSTEM_PROMPT": "Be brief.", "SUBAGENTS_MAX_ITERATIONS": 7},
    "/api/v1/configs/code_execution": {"CODE_EXECUTION_JUPYTER_TIMEOUT": 42},
    "/api/v1/tasks/config/update": {"TITLE_GENERATION_PROMPT_TEMPLATE": "Title: {{MESSAGES:END:2}}"},
    "/api/v1/auths/admin/config": {"PENDING_USER_OVERLAY_TITLE": "Please wait"},
}
"""Values other than the defaults, set through the API first, that the tabs must keep when they save."""
SETTLE = 2.0
"""Seconds a page is left to make its calls once it has loaded."""


@pytest.fixture
def app(stack, installed_webui):
    browser = WebApp(stack.url)
    yield browser
    browser.close()


def settled(app: WebApp, path: str) -> tuple[list, list]:
    """Open ``path``, let it load and make its calls; the failed API calls and script errors it caused."""
    app.failed_api_calls()
    app.console_errors()  # both logs are read once: what came before this page is dropped
    app.open(path)
    app.wait(lambda: app.driver.execute_script("return document.readyState") == "complete", 30, path)
    time.sleep(SETTLE)
    return app.failed_api_calls(), app.console_errors()


def test_every_admin_and_workspace_page_loads_without_a_failed_call(app):
    app.create_admin(*ADMIN)
    app.wait_for_chat_page()
    app.dismiss_release_notes()
    problems = {}
    for path in PAGES:
        failed, errors = settled(app, path)
        app.screenshot(f"admin{path.replace('/', '-')}")
        if failed or errors:
            problems[path] = {"failed calls": failed, "script errors": errors}
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def changed(before: object, after: object, path: str = "") -> list[str]:
    """Where ``after`` lost or changed a value of ``before`` (what the tab fills in where there was nothing, such
    as a connection's default settings or ComfyUI's default nodes, is no change)."""
    if before in ({}, [], None) and after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return [where for key, value in before.items()
                for where in (changed(value, after[key], f"{path}.{key}") if key in after else [f"{path}.{key} lost"])]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def test_saving_each_settings_tab_keeps_what_it_read(app, stack):
    app.create_admin(*ADMIN)
    app.wait_for_chat_page()
    app.dismiss_release_notes()
    token = app.driver.execute_script("return localStorage.token")
    auth = {"Authorization": f"Bearer {token}"}
    for path, body in SET_BEFORE.items():
        requests.post(f"{stack.url}{path}", headers=auth, json=body, timeout=10).raise_for_status()

    def snapshot(paths: tuple[str, ...]) -> dict:
        return {path: requests.get(f"{stack.url}{path}", headers=auth, timeout=10).json() for path in paths}

    problems = {}
    for tab, paths in SAVED_BY.items():
        before = snapshot(paths)
        settled(app, f"/admin/settings/{tab}")
        app.failed_api_calls()
        app.console_errors()
        app.button("Save").click()
        time.sleep(SETTLE)
        failed, errors, after = app.failed_api_calls(), app.console_errors(), snapshot(paths)
        app.screenshot(f"admin-saved-{tab}")
        lost = changed(before, after)
        if failed or errors or lost:
            problems[tab] = {"failed calls": failed, "script errors": errors, "changed": lost}
    assert not problems, "\n".join(f"{tab}: {found}" for tab, found in problems.items())
    kept = snapshot(("/api/v1/configs/subagents",))["/api/v1/configs/subagents"]
    assert (kept["SUBAGENTS_SYSTEM_PROMPT"], kept["SUBAGENTS_MAX_ITERATIONS"]) == ("Be brief.", 7)
