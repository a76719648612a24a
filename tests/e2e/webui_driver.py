"""Drives the real Open WebUI web app in headless Chromium (Debian's ``chromium`` + ``chromedriver``).

Only what a person does: click, type, read the page. Each step can save a screenshot under
``test-artifacts/webui/``.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "webui"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,900")


def browser_available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


class WebApp:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- looking ---------------------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def wait(self, predicate, timeout: float = 30.0, what: str = "the page"):
        """Poll ``predicate()`` until it returns something truthy (bounded); a timeout leaves a screenshot."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except WebDriverException:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                shot = self.screenshot("timed-out")
                raise TimeoutError(f"timed out waiting for {what} (at {self.driver.current_url}; see {shot})")
            time.sleep(0.2)

    def visible(self, css: str) -> list[WebElement]:
        """The displayed elements matching ``css`` (ones the app re-renders meanwhile are skipped)."""
        found = []
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            try:
                if element.is_displayed():
                    found.append(element)
            except StaleElementReferenceException:
                continue
        return found

    def labelled(self, label: str) -> WebElement | None:
        """A visible button by its ``aria-label`` (case-insensitive)."""
        for button in self.visible("button"):
            try:
                if (button.get_attribute("aria-label") or "").lower() == label.lower():
                    return button
            except StaleElementReferenceException:
                continue
        return None

    def button(self, text: str, timeout: float = 20.0) -> WebElement:
        def find():
            return next((b for b in self.visible("button") if b.text.strip() == text), None)
        return self.wait(find, timeout, f"a button '{text}'")

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def failed_api_calls(self) -> list[tuple[int, str]]:
        """Every API response (``/api``, ``/ollama``, ``/openai``) with an error status since the last call."""
        failed = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] != "Network.responseReceived":
                continue
            response = message["params"]["response"]
            path = urlsplit(response["url"]).path
            if response["status"] >= 400 and path.startswith(("/api", "/ollama", "/openai")):
                failed.append((response["status"], response["url"]))
        return failed

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    # -- doing -----------------------------------------------------------------------------------
    def open(self, path: str = "/") -> None:
        self.driver.get(self.base_url + path)

    def fill(self, css: str, value: str) -> None:
        field = self.wait(lambda: next(iter(self.visible(css)), None), what=css)
        field.clear()
        field.send_keys(value)

    def create_admin(self, name: str, email: str, password: str) -> None:
        self.open("/")
        self.button("Get started").click()
        self.fill("input[autocomplete='name']", name)
        self.fill("input[type='email']", email)
        self.fill("input[type='password']", password)
        self.screenshot("02-create-admin")
        self.driver.find_element(By.CSS_SELECTOR, "form button[type='submit']").click()

    def sign_in(self, email: str, password: str) -> None:
        self.fill("input[type='email']", email)
        self.fill("input[type='password']", password)
        self.driver.find_element(By.CSS_SELECTOR, "form button[type='submit']").click()

    def wait_for_chat_page(self) -> None:
        self.wait(lambda: self.visible("#chat-input"), 60, "the chat input")

    def dismiss_release_notes(self) -> None:
        """The "What's New" dialog an admin sees on the first visit."""
        self.button("Okay, Let's Go!", timeout=10).click()

    def pick_model(self, name: str, selector: str = "model") -> None:
        """Choose ``name`` in a model selector (the chat's, or ``workspace-base-model`` in the model editor)."""
        button = f"model-selector-{selector}-button"
        self.wait(lambda: self.visible(f"#{button}"), what="the model selector")[0].click()
        item = self.wait(lambda: next((e for e in self.visible("[role='option'], button")
                                       if e.text.strip().startswith(name)
                                       and e.get_attribute("id") != button), None),
                         what=f"model '{name}' in the list")
        item.click()

    def selected_model(self) -> str:
        return self.wait(lambda: self.visible("#model-selector-model-button"), what="the model selector")[0].text

    def send(self, message: str) -> None:
        box = self.wait(lambda: next(iter(self.visible("#chat-input")), None), what="the chat input")
        box.click()
        box.send_keys(message)
        box.send_keys(Keys.ENTER)

    def open_sidebar(self) -> None:
        def opened() -> bool:
            if self.visible("#sidebar-new-chat-button"):
                return True
            toggle = self.labelled("Open Sidebar")
            if toggle is not None:
                toggle.click()
            return False

        self.wait(opened, what="the sidebar")

    def sidebar_chat_titles(self) -> list[str]:
        """The titles of the chats listed in the (open) sidebar."""
        return [a.text.strip().splitlines()[0] for a in self.visible("a[href*='/c/']") if a.text.strip()]

    def sign_out(self) -> None:
        self.wait(lambda: next(iter(self.visible("img[aria-label='Open User Profile Menu']")), None),
                  what="the user menu").click()
        self.wait(lambda: next((e for e in self.visible("button, a, [role='menuitem']")
                                if e.text.strip() == "Sign Out"), None), what="Sign Out").click()
