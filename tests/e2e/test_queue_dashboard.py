"""The queue dashboard (``/admin/queues``) in headless Chromium against gunicorn and a real worker: an admin signs
in on the page, jobs run, and the page shows them in its queue table and its throughput plot without a failed
API call or a script error; a running job is cancelled, retried and cancelled again from its buttons; reloaded,
the page signs in with the token it keeps (as the web app does). Screenshots: test-artifacts/webui/."""
from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.e2e.processes import web_server
from tests.e2e.webui_driver import WebApp, browser_available
from tests.jobs.worker import running_worker

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs Debian's chromium and chromium-driver")

ADMIN = {"name": "Ada Admin", "email": "ada-queues@example.com", "password": "browser-pass-1"}


@pytest.fixture
def site(database):
    with running_worker(threads=2, modules=()), web_server() as url:
        yield url


def cell(app: WebApp, queue: str, field: str) -> str:
    return app.driver.find_element(By.CSS_SELECTOR, f'#queues tr[data-queue="{queue}"] td.{field}').text


def script(app: WebApp, code: str):
    return app.driver.execute_script(code)


def test_the_dashboard_shows_jobs_as_they_run(site, database):
    token = requests.post(f"{site}/api/v1/auths/signup", json=ADMIN, timeout=30).json()["token"]
    app = WebApp(site)
    try:
        app.open("/admin/queues")
        app.fill('#signin input[name="email"]', ADMIN["email"])
        app.fill('#signin input[name="password"]', ADMIN["password"])
        app.failed_api_calls()  # the call before signing in answered 401, as it should (logged as an error)
        app.console_errors()
        app.button("Sign in").click()
        app.wait(lambda: app.visible('#queues tr[data-queue="default"]'), 20, "the queue table")
        for _ in range(3):
            probe = requests.post(f"{site}/api/v1/jobs/probe", json={"wait": 20}, timeout=30,
                                  headers={"Authorization": f"Bearer {token}"})
            assert probe.status_code == 200, probe.text
        app.wait(lambda: int(cell(app, "default", "done")) >= 3, 20, "the finished jobs in the table")
        app.wait(lambda: app.driver.find_elements(By.CSS_SELECTOR, '#throughput polyline[data-series="default"]'),
                 10, "the throughput line of the default queue")
        assert int(cell(app, "default", "workers")) >= 1
        assert app.driver.find_elements(By.CSS_SELECTOR, "#workers tbody tr")
        app.screenshot("queue-dashboard")
        assert app.failed_api_calls() == [] and app.console_errors() == []

        sleeper = requests.post(f"{site}/api/v1/jobs/probe", json={"seconds": 60}, timeout=30, headers={
            "Authorization": f"Bearer {token}", "Prefer": "respond-async"}).json()["job_id"]
        row = f'#jobs tr[data-job="{sleeper}"]'
        for status, button in (("running", "Cancel"), ("cancelled", "Retry"), ("running", "Cancel")):
            app.wait(lambda: script(app, f"return document.querySelector('{row} td.status')?.textContent") == status,
                     20, f"the job {status} in the jobs table")
            # One script finds and clicks: the table is redrawn at every refresh.
            assert script(app, f"const b = document.querySelector('{row} button'); b.click(); return b.textContent") \
                == button
        job = lambda: requests.get(f"{site}/api/v1/jobs/{sleeper}", timeout=10,  # noqa: E731
                                   headers={"Authorization": f"Bearer {token}"}).json()
        app.wait(lambda: job()["status"] == "cancelled" and job()["attempts"] >= 2, 20, "the retried job cancelled")
        assert app.failed_api_calls() == [] and app.console_errors() == []

        app.open("/admin/queues")  # again: signed in by the kept token, no form
        app.wait(lambda: app.visible('#queues tr[data-queue="default"]'), 20, "the queue table after a reload")
        assert not app.visible("#signin") and int(cell(app, "default", "done")) >= 3
        assert app.failed_api_calls() == [] and app.console_errors() == []
    finally:
        app.close()
