"""The Alembic history: one line of revisions whose result matches the SQLAlchemy models."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from shared.cli import alembic_config

ROOT = Path(__file__).resolve().parents[2]


def test_history_is_linear():
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_models_match_the_migrated_postgresql_schema():
    command.check(alembic_config())  # raises when autogenerate would emit operations


def test_sqlite_upgrade_and_downgrade(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path)
    for target in ("head", "base", "head"):
        action = "upgrade" if target == "head" else "downgrade"
        subprocess.run([sys.executable, "-m", "alembic", action, target], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    assert (tmp_path / "switchyard.db").exists()
