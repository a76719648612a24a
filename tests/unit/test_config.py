"""Settings the processes must not start with."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import MIN_SECRET_KEY_BYTES, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SHORT_KEY = "t0p-s3cr3t"  # Open WebUI's old default


def test_a_short_secret_key_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("WEBUI_SECRET_KEY", SHORT_KEY)
    monkeypatch.delenv("ENV", raising=False)
    with pytest.raises(ConfigError, match=f"10 bytes long; signing tokens needs at least {MIN_SECRET_KEY_BYTES}"):
        load_settings()


def test_a_short_secret_key_is_only_a_loud_warning_in_development(monkeypatch, caplog):
    monkeypatch.setenv("WEBUI_SECRET_KEY", SHORT_KEY)
    monkeypatch.setenv("ENV", "dev")
    with caplog.at_level(logging.WARNING, logger="shared.config"):
        assert load_settings().secret_key == SHORT_KEY
    assert "INSECURE: WEBUI_SECRET_KEY is 10 bytes long" in caplog.text


def test_the_generated_key_is_long_enough(monkeypatch, tmp_path):
    monkeypatch.delenv("WEBUI_SECRET_KEY")
    monkeypatch.delenv("WEBUI_JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("ENV", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    key = load_settings().secret_key
    assert len(key.encode()) >= MIN_SECRET_KEY_BYTES and load_settings().secret_key == key


def test_the_command_line_refuses_to_start_with_a_short_key(tmp_path):
    env = {**os.environ, "WEBUI_SECRET_KEY": SHORT_KEY, "DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    env.pop("ENV", None)
    done = subprocess.run([sys.executable, "-m", "shared.cli", "migrate"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "switchyard: WEBUI_SECRET_KEY is 10 bytes long" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "db.sqlite").exists()
