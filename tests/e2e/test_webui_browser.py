"""The real Open WebUI web app (0.12.4, from PyPI) in headless Chromium against a live Switchyard:
install it, create the admin, pick a model served by the fake Ollama, chat with a streamed answer,
reload, see the titled chat in the sidebar, stop an answer, have a reply read aloud, rate it, sign out and in again. Screenshots: test-artifacts/webui/."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from shared import webui_bundle
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.webui_driver import WebApp, browser_available
from tests.fakes.fixtures import FAKE_OPENAI_KEY

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium and chromium-driver")

ADMIN = ("Ada Admin", "ada@example.com", "browser-pass-1")
MODEL = "qwen-fake:0.5b"
TITLE = "Greetings from Chromium"


@pytest.fixture(scope="module")
def installed_webui():
    """``switchyard webui install`` (downloads the wheel unless ``WEBUI_WHEEL`` names a local copy, as
    ``scripts/test.sh`` does)."""
    subprocess.run([str(Path(sys.executable).parent / "switchyard"), "webui", "install"], check=True, timeout=600)
    assert webui_bundle.is_installed()
    yield
    shutil.rmtree(webui_bundle.bundle_dir(), ignore_errors=True)


@pytest.fixture
def app(stack, installed_webui):
    browser = WebApp(stack.url)
    yield browser
    browser.close()


def answer_states(app: WebApp, final: str, timeout: float = 30.0) -> list[str]:
    """The assistant's text as it grows, sampled until it reads ``final``."""
    seen: list[str] = []

    def latest() -> bool:
        texts = [e.text for e in app.visible("#response-content-container")]
        if texts and (not seen or seen[-1] != texts[-1]):
            seen.append(texts[-1])
        return bool(texts) and texts[-1].strip() == final

    app.wait(latest, timeout, f"the answer '{final}'")
    return seen


def read_aloud(app: WebApp, stack, token: str, fake_openai) -> None:
    """With a TTS engine configured, the reply's read-aloud button has Switchyard speak it (a job) and the web
    app plays the MP3 it answers."""
    requests.post(f"{stack.url}/api/v1/audio/config/update", headers={"Authorization": f"Bearer {token}"}, json={
        "tts": {"ENGINE": "openai", "OPENAI_API_BASE_URL": fake_openai.url, "OPENAI_API_KEY": FAKE_OPENAI_KEY,
                "MODEL": "tts-fake", "VOICE": "nova"}}).raise_for_status()
    app.driver.refresh()  # the web app reads the engine from /api/config when it loads
    app.wait_for_chat_page()
    app.wait(lambda: app.visible("#response-content-container"), 30, "the replies after a reload")
    app.wait(lambda: app.labelled("Read Aloud"), 30, "the read-aloud button").click()
    app.wait(lambda: fake_openai.received("/v1/audio/speech"), 30, "the reply spoken by the TTS engine")
    spoken = fake_openai.received("/v1/audio/speech")[0].body
    assert spoken["input"].startswith("You said: please") and spoken["model"] == "tts-fake"
    app.screenshot("09-read-aloud")


def rate_reply(app: WebApp, stack, token: str) -> None:
    """The thumbs-up under a reply records Open WebUI's feedback, and the model leads the leaderboard."""
    app.wait(lambda: app.labelled("Good Response"), 30, "the rating buttons").click()
    headers = {"Authorization": f"Bearer {token}"}

    def rated() -> list[dict]:
        return requests.get(f"{stack.url}/api/v1/evaluations/feedbacks/user", headers=headers, timeout=10).json()[
            "items"]

    app.wait(rated, 30, "the rating to be saved")
    assert rated()[0]["data"]["rating"] == 1 and rated()[0]["data"]["model_id"] == MODEL
    app.screenshot("10-rated")
    board = requests.get(f"{stack.url}/api/v1/evaluations/leaderboard", headers=headers, timeout=60)
    assert board.status_code == 200, board.text


def test_chat_in_the_real_web_app(app, stack, fake_ollama, fake_openai):
    app.open("/")
    app.button("Get started")
    app.screenshot("01-welcome")

    app.create_admin(*ADMIN)
    app.wait_for_chat_page()
    app.dismiss_release_notes()
    app.screenshot("03-signed-in")
    token = app.driver.execute_script("return localStorage.token")
    requests.post(f"{stack.url}/api/v1/tasks/config/update", headers={"Authorization": f"Bearer {token}"},
                  json={"TITLE_GENERATION_PROMPT_TEMPLATE": f'Reply {{"title": "{TITLE}"}} for {{{{MESSAGES:END:2}}}}'},
                  ).raise_for_status()

    app.pick_model(MODEL)
    assert app.selected_model() == MODEL
    app.screenshot("04-model-picked")

    fake_ollama.behave(delay=0.3)
    app.send("hello from the browser")
    states = answer_states(app, "You said: hello from the browser")
    app.screenshot("05-streamed-answer")
    assert len(states) >= 2, f"the answer did not stream: {states}"
    assert fake_ollama.received("/api/chat")[0].body["model"] == MODEL
    assert "/c/" in app.driver.current_url
    chat_url = app.driver.current_url

    app.open_sidebar()
    app.wait(lambda: TITLE in app.sidebar_chat_titles(), 30, "the generated title in the sidebar")
    app.screenshot("06-titled-chat-in-sidebar")

    app.driver.refresh()
    app.wait_for_chat_page()
    answer_states(app, "You said: hello from the browser")
    app.open_sidebar()
    app.wait(lambda: TITLE in app.sidebar_chat_titles(), 30, "the title after a reload")
    assert app.driver.current_url == chat_url
    app.screenshot("07-after-reload")

    fake_ollama.behave(delay=0.4)
    app.send("please count slowly from one to twenty and then stop counting")
    app.wait(lambda: any("You said: please" in e.text for e in app.visible("#response-content-container")), 30,
             "the second answer to start")
    app.wait(lambda: app.labelled("Stop"), what="the stop button").click()
    time.sleep(1.5)
    stopped = app.visible("#response-content-container")[-1].text
    assert "then stop counting" not in stopped
    app.screenshot("08-stopped")
    app.driver.refresh()
    app.wait_for_chat_page()
    app.wait(lambda: app.visible("#response-content-container")[-1].text.startswith("You said: please"), 30,
             "the stopped answer after a reload")
    assert "then stop counting" not in app.visible("#response-content-container")[-1].text
    assert not app.labelled("Stop")
    fake_ollama.behave(delay=0.0)

    read_aloud(app, stack, token, fake_openai)
    rate_reply(app, stack, token)

    app.sign_out()
    app.wait(lambda: "/auth" in app.driver.current_url and app.visible("input[type='email']"), 30, "the sign-in page")
    app.screenshot("11-signed-out")
    app.sign_in(ADMIN[1], ADMIN[2])
    app.wait_for_chat_page()
    app.open_sidebar()
    app.wait(lambda: TITLE in app.sidebar_chat_titles(), 30, "the chat after signing in again")
    app.screenshot("12-signed-in-again")

    assert app.failed_api_calls() == []
