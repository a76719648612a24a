"""Notes in the real Open WebUI web app (0.12.4) in headless Chromium: the Notes page lists a note, its editor
opens it with its saved text (the shared document's first state), what is typed is saved to the note and is
there after a reload, with no API call answering an error and no script error."""
from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.test_webui_admin import settled
from tests.e2e.test_webui_browser import installed_webui  # noqa: F401
from tests.e2e.webui_driver import WebApp, browser_available

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium and chromium-driver")

ADMIN = ("Nora Notes", "nora@example.com", "browser-pass-1")
SAVED = "Remember the milk."
TYPED = "Buy eggs too."


@pytest.fixture
def app(stack, installed_webui):
    browser = WebApp(stack.url)
    yield browser
    browser.close()


def test_a_note_opens_with_its_text_and_keeps_what_is_typed(app, stack):
    app.create_admin(*ADMIN)
    app.wait_for_chat_page()
    app.dismiss_release_notes()
    auth = {"Authorization": f"Bearer {app.driver.execute_script('return localStorage.token')}"}
    note = requests.post(f"{stack.url}/api/v1/notes/create", headers=auth, timeout=10, json={
        "title": "Errands", "data": {"content": {"md": SAVED}}}).json()

    failed, errors = settled(app, "/notes")
    app.screenshot("notes-list")
    assert (failed, errors) == ([], []) and "Errands" in app.text()

    failed, errors = settled(app, f"/notes/{note['id']}")
    editor = app.wait(lambda: next(iter(app.visible(".ProseMirror")), None), what="the note editor")
    app.wait(lambda: SAVED in editor.text, what="the note's saved text in the editor")
    assert (failed, errors) == ([], [])

    editor.click()
    editor.send_keys(Keys.CONTROL, Keys.END)
    editor.send_keys(Keys.ENTER, TYPED)

    def saved_text() -> str:
        data = requests.get(f"{stack.url}/api/v1/notes/{note['id']}", headers=auth, timeout=10).json()["data"]
        return (data.get("content") or {}).get("md") or ""

    app.wait(lambda: TYPED in saved_text(), 20, "the typed text saved to the note")
    assert SAVED in saved_text()
    app.screenshot("notes-edited")

    app.driver.refresh()
    reopened = app.wait(lambda: next(iter(app.visible(".ProseMirror")), None), what="the note editor again")
    app.wait(lambda: TYPED in reopened.text and SAVED in reopened.text, what="both lines after a reload")
    assert app.failed_api_calls() == [] and app.console_errors() == []
    assert [e.text for e in app.driver.find_elements(By.CSS_SELECTOR, ".ProseMirror")][:1] != [""]
