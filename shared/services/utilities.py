"""Open WebUI's ``/api/v1/utils``: a Gravatar address, Python formatted with black, a snippet run (a job on the
``extensions`` queue, ``jobs/extensions.py``) in Switchyard's sandbox or on a Jupyter server, and the SQLite
database for admins."""
from __future__ import annotations

import hashlib
from pathlib import Path

import black
from sqlalchemy.orm import Session

from shared import backup
from shared.config import env, get_settings
from shared.db import session_scope
from shared.errors import BadRequest, Forbidden, Unauthorized
from shared.extensions import snippets
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers.jupyter import JupyterClient
from shared.services import config_sections

ACCESS_PROHIBITED = ("You do not have permission to access this resource. Please contact your administrator for "
                     "assistance.")


def gravatar_url(email: str) -> str:
    """Open WebUI's address: the SHA-256 of the trimmed, lower-cased address (nothing is fetched)."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=mp"


def format_code(code: str) -> str:
    """``code`` as black formats it (unchanged when it already is); code that does not parse is a 400."""
    try:
        return black.format_str(code, mode=black.Mode())
    except black.NothingChanged:
        return code
    except Exception as error:  # noqa: BLE001  (black reports a parse failure as several exception types)
        raise BadRequest(f"The code could not be formatted: {error}") from None


def start_execution(session: Session, user: User, code: str) -> Job:
    """Run ``code`` in the sandbox, as the admin settings (``/api/v1/configs/code_execution``) allow."""
    settings = config_sections.read(session, config_sections.CODE_EXECUTION)
    if not settings["ENABLE_CODE_EXECUTION"]:
        raise Forbidden("Code execution is disabled")
    if settings["CODE_EXECUTION_ENGINE"] == "jupyter" and not settings["CODE_EXECUTION_JUPYTER_URL"]:
        raise BadRequest("The Jupyter engine is chosen but CODE_EXECUTION_JUPYTER_URL is not set")
    return catalog.send(session, catalog.EXECUTE_CODE, catalog.ExecuteCode(code), owner_id=user.id)


def execute(code: str) -> dict[str, str]:
    """``{stdout, stderr, result}`` of ``code`` on the engine configured now: a Jupyter server's kernel, or
    Switchyard's own sandbox (for ``pyodide``, which Open WebUI runs in the browser)."""
    with session_scope() as session:
        settings = config_sections.read(session, config_sections.CODE_EXECUTION)
    if settings["CODE_EXECUTION_ENGINE"] != "jupyter":
        return snippets.run(code)
    return JupyterClient(settings["CODE_EXECUTION_JUPYTER_URL"], settings["CODE_EXECUTION_JUPYTER_AUTH"],
                         settings["CODE_EXECUTION_JUPYTER_AUTH_TOKEN"], settings["CODE_EXECUTION_JUPYTER_AUTH_PASSWORD"],
                         float(settings["CODE_EXECUTION_JUPYTER_TIMEOUT"] or 60)).execute(code)


def database_snapshot(folder: Path) -> Path:
    """A consistent copy of the SQLite database in ``folder``, for an admin to download (``ENABLE_ADMIN_EXPORT``)."""
    if not env("ENABLE_ADMIN_EXPORT"):
        raise Unauthorized(ACCESS_PROHIBITED)
    settings = get_settings()
    if not settings.uses_sqlite:
        raise BadRequest("This feature is only available with SQLite databases. With PostgreSQL, take a backup "
                         "with `switchyard backup` (or pg_dump) instead.")
    target = folder / "webui.db"
    backup.dump_database(settings, target)
    return target
