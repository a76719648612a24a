"""The real Open WebUI web app (0.12.4, from PyPI) in headless Chromium against a live Switchyard:
install it, create the admin, pick a model served by the fake Ollama, chat with a streamed answer,
reload, see the titled chat in the sidebar, stop an answer, have a reply read aloud, create a custom model in the
workspace and chat with it, rate its reply, switch on a filter function in the admin's Functions page and see it
change a reply, press an action button, sign out and in again. Screenshots: test-artifacts/webui/."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By

from shared import webui_bundle
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.e2e.webui_driver import WebApp, browser_available
from tests.fakes.fixtures import FAKE_OPENAI_KEY

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium and chromium-driver")

ADMIN = ("Ada Admin", "ada@example.com", "browser-pass-1")
MODEL = "qwen-fake:0.5b"
CUSTOM = ("Pirate", "pirate", "Talk like a pirate.")
"""A custom model's name, the id the editor derives from it, and its system prompt."""
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


def chat_with_a_custom_model(app: WebApp, stack, token: str, fake_ollama) -> None:
    """A custom model made in the workspace's model editor answers through its base model, with its system
    prompt."""
    name, model_id, system = CUSTOM
    app.open("/workspace/models/create")
    app.fill("input[placeholder='Model Name']", name)
    app.pick_model(MODEL, selector="workspace-base-model")
    app.fill("textarea[aria-label='System Prompt']", system)
    app.screenshot("10-custom-model")
    app.button("Save & Create").click()
    headers = {"Authorization": f"Bearer {token}"}
    app.wait(lambda: requests.get(f"{stack.url}/api/v1/models/model", params={"id": model_id}, headers=headers,
                                  timeout=10).ok, 30, "the custom model to be saved")
    saved = requests.get(f"{stack.url}/api/v1/models/model", params={"id": model_id}, headers=headers,
                         timeout=10).json()
    assert saved["base_model_id"] == MODEL and saved["params"]["system"] == system

    app.open("/")
    app.wait_for_chat_page()
    app.pick_model(name)
    fake_ollama.reset()
    app.send("ahoy there")
    answer_states(app, "You said: ahoy there")
    sent = fake_ollama.received("/api/chat")[0].body
    assert sent["model"] == MODEL and sent["messages"][0] == {"role": "system", "content": system}
    app.screenshot("11-custom-model-chat")


def rate_reply(app: WebApp, stack, token: str, model_id: str) -> None:
    """The thumbs-up under a reply records Open WebUI's feedback; the leaderboard (Elo over comparisons) answers."""
    app.wait(lambda: app.labelled("Good Response"), 30, "the rating buttons").click()
    headers = {"Authorization": f"Bearer {token}"}

    def rated() -> list[dict]:
        return requests.get(f"{stack.url}/api/v1/evaluations/feedbacks/user", headers=headers, timeout=10).json()[
            "items"]

    app.wait(rated, 30, "the rating to be saved")
    assert rated()[0]["data"]["rating"] == 1 and rated()[0]["data"]["model_id"] == model_id
    app.screenshot("12-rated")
    board = requests.get(f"{stack.url}/api/v1/evaluations/leaderboard", headers=headers, timeout=60)
    assert board.status_code == 200, board.text
    assert board.json()["entries"] == []  # a lone rating compares the model with no other: no Elo change


EXTENSIONS = Path(__file__).parent / "extensions"


def filter_and_action(app: WebApp, stack, token: str, fake_ollama) -> None:
    """A filter saved by the admin and switched on in the Functions page rewrites the next reply (its inlet the
    question, its outlet the answer); an action's button under the reply runs it as a job."""
    headers = {"Authorization": f"Bearer {token}"}
    for function_id, name, source in (("shout", "Shout", "shout_filter.py"), ("word_count", "Word Count",
                                                                              "summary_action.py")):
        requests.post(f"{stack.url}/api/v1/functions/create", headers=headers, timeout=60, json={
            "id": function_id, "name": name, "content": (EXTENSIONS / source).read_text()}).raise_for_status()
        requests.post(f"{stack.url}/api/v1/functions/id/{function_id}/toggle/global", headers=headers,
                      timeout=10).raise_for_status()
    requests.post(f"{stack.url}/api/v1/functions/id/word_count/toggle", headers=headers, timeout=10).raise_for_status()

    app.open("/admin/functions")
    row = app.wait(lambda: next((e for e in app.visible("a, div") if "Shout" in e.text.splitlines()
                                 and len(e.find_elements(By.CSS_SELECTOR, "button[role='switch']")) == 1), None), 30,
                   "the filter's row in the Functions page")
    row.find_elements(By.CSS_SELECTOR, "button[role='switch']")[0].click()
    app.wait(lambda: requests.get(f"{stack.url}/api/v1/functions/id/shout", headers=headers,
                                  timeout=10).json()["is_active"], 30, "the filter to be switched on")
    app.screenshot("13-filter-on")

    app.open("/")
    app.wait_for_chat_page()
    app.pick_model(MODEL)
    app.send("make it loud")
    answer_states(app, "YOU SAID: MAKE IT LOUD PLEASE")
    asked = [r.body["messages"][-1]["content"] for r in fake_ollama.received("/api/chat")]
    assert "make it loud please" in asked  # the inlet's change (the title and follow-up tasks ask after it)
    app.wait(lambda: app.labelled("Word Count"), 30, "the action's button").click()

    def counted() -> list[dict]:
        return requests.get(f"{stack.url}/api/v1/jobs/", params={"kind": "function.action", "status": "succeeded"},
                            headers=headers, timeout=10).json()["items"]

    app.wait(counted, 30, "the action's job to succeed")
    app.screenshot("14-action")


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
    chat_with_a_custom_model(app, stack, token, fake_ollama)
    rate_reply(app, stack, token, CUSTOM[1])
    filter_and_action(app, stack, token, fake_ollama)

    app.sign_out()
    app.wait(lambda: "/auth" in app.driver.current_url and app.visible("input[type='email']"), 30, "the sign-in page")
    app.screenshot("15-signed-out")
    app.sign_in(ADMIN[1], ADMIN[2])
    app.wait_for_chat_page()
    app.open_sidebar()
    app.wait(lambda: TITLE in app.sidebar_chat_titles(), 30, "the chat after signing in again")
    app.screenshot("16-signed-in-again")

    failed = app.failed_api_calls()
    assert failed == [], "\n".join(f"{s} {u}" for s, u in failed)
