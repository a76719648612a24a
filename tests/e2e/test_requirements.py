"""A module's frontmatter requirements: installed, when the admin enables it, by the worker about to load the
module, into a folder only user code sees (here from a wheel built on the spot, offered by ``--find-links``: no
network); the module then loads and runs with them. With the switch off, see ``test_functions.py``."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.processes import web_server
from tests.helpers import bearer
from tests.jobs.worker import running_worker

GREETER = '''"""
title: Greeter
requirements: sy-greeting
"""
import sy_greeting


class Pipe:
    def pipe(self, body: dict) -> str:
        return sy_greeting.greet(body["messages"][-1]["content"])
'''


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """A folder holding one wheel, ``sy-greeting``, built from source here."""
    source = tmp_path_factory.mktemp("sy-greeting")
    (source / "sy_greeting.py").write_text("def greet(name):\n    return f'Greetings, {name}!'\n")
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "sy-greeting"\nversion = "1.0"\n\n[tool.setuptools]\npy-modules = ["sy_greeting"]\n')
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(source)], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def live(database, wheels):
    env = {"ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS": "true",
           "PIP_OPTIONS": f"--no-index --find-links {wheels}"}
    with running_worker(threads=4, modules=(), env=env), web_server(env) as url:
        yield url


def test_requirements_are_installed_for_user_code_only_and_the_module_runs_with_them(live, admin):
    token = admin["token"]
    made = requests.post(f"{live}/api/v1/functions/create", headers=bearer(token), timeout=120,
                         json={"id": "greeter", "name": "Greeter", "content": GREETER})
    assert made.status_code == 200, made.text
    assert made.json()["meta"]["manifest"]["requirements"] == "sy-greeting"
    installed = Path(os.environ["DATA_DIR"]) / "extensions" / "site-packages"
    assert (installed / "sy_greeting.py").exists()
    assert importlib.util.find_spec("sy_greeting") is None  # never in Switchyard's own environment

    requests.post(f"{live}/api/v1/functions/id/greeter/toggle", headers=bearer(token)).raise_for_status()
    answer = requests.post(f"{live}/api/chat/completions", headers=bearer(token), timeout=60, json={
        "model": "greeter", "messages": [{"role": "user", "content": "Ada"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "Greetings, Ada!"


def test_a_requirement_pip_cannot_find_fails_the_save_with_pips_reason(live, admin):
    content = GREETER.replace("sy-greeting", "sy-nowhere-to-be-found")
    made = requests.post(f"{live}/api/v1/functions/create", headers=bearer(admin["token"]), timeout=120,
                         json={"id": "lost", "name": "Lost", "content": content})
    assert made.status_code == 400
    assert "Installing sy-nowhere-to-be-found failed" in made.json()["detail"]
    assert requests.get(f"{live}/api/v1/functions/id/lost", headers=bearer(admin["token"])).status_code == 404
