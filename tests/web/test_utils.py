"""/api/v1/utils without a worker: Open WebUI's Gravatar address, black formatting (400 on code that does not
parse), code execution refused while switched off (403) or on the Jupyter engine without its URL (400), and the database download
(the SQLite file as a consistent snapshot; 400 pointing to `switchyard backup` on PostgreSQL; 401 when
``ENABLE_ADMIN_EXPORT`` is off)."""
from __future__ import annotations

import hashlib
import sqlite3

from tests.conftest import SQLITE
from tests.helpers import bearer


def test_gravatar_is_the_sha256_of_the_trimmed_lower_cased_address(client, admin):
    answer = client.get("/api/v1/utils/gravatar", query_string={"email": "  Someone@Example.COM "},
                        headers=bearer(admin["token"]))
    digest = hashlib.sha256(b"someone@example.com").hexdigest()
    assert answer.status_code == 200 and answer.get_json() == f"https://www.gravatar.com/avatar/{digest}?d=mp"
    assert client.get("/api/v1/utils/gravatar", headers=bearer(admin["token"])).status_code == 422


def test_code_is_formatted_with_black_and_code_that_does_not_parse_is_400(client, admin):
    auth = bearer(admin["token"])
    formatted = client.post("/api/v1/utils/code/format", headers=auth, json={"code": "x = {'a':1,\n'b':2}"})
    assert formatted.get_json() == {"code": 'x = {"a": 1, "b": 2}\n'}
    unchanged = client.post("/api/v1/utils/code/format", headers=auth, json={"code": "x = 1\n"})
    assert unchanged.get_json() == {"code": "x = 1\n"}
    broken = client.post("/api/v1/utils/code/format", headers=auth, json={"code": "def f(:\n"})
    assert broken.status_code == 400 and broken.get_json()["detail"].startswith("The code could not be formatted")


def test_code_execution_is_403_while_off_and_a_job_once_on(client, admin, make_user):
    auth, user = bearer(admin["token"]), bearer(make_user()["token"])
    off = client.post("/api/v1/utils/code/execute", headers=user, json={"code": "print(1)"})
    assert off.status_code == 403 and off.get_json() == {"detail": "Code execution is disabled"}
    client.post("/api/v1/configs/code_execution", headers=auth,
                json={"ENABLE_CODE_EXECUTION": True, "CODE_EXECUTION_ENGINE": "jupyter"})
    jupyter = client.post("/api/v1/utils/code/execute", headers=user, json={"code": "print(1)"})
    assert jupyter.status_code == 400 and "CODE_EXECUTION_JUPYTER_URL" in jupyter.get_json()["detail"]
    switched = client.post("/api/v1/configs/code_execution", headers=auth, json={"CODE_EXECUTION_ENGINE": "pyodide"})
    assert switched.status_code == 200
    accepted = client.post("/api/v1/utils/code/execute", headers={**user, "Prefer": "respond-async"},
                           json={"code": "print(1)"})
    assert accepted.status_code == 202 and accepted.get_json()["kind"] == "code.execute"
    assert client.post("/api/v1/utils/code/execute", headers=user, json={}).status_code == 422


def test_the_database_download(client, admin, tmp_path, monkeypatch):
    auth = bearer(admin["token"])
    assert client.get("/api/config", headers=auth).get_json()["features"]["enable_admin_export"] is True
    answer = client.get("/api/v1/utils/db/download", headers=auth)
    if SQLITE:
        assert answer.status_code == 200 and answer.headers["Content-Disposition"].endswith("filename=webui.db")
        copy = tmp_path / "webui.db"
        copy.write_bytes(answer.data)
        with sqlite3.connect(copy) as database:  # a whole database: the admin account is in it
            assert database.execute("select email from user").fetchall() == [("admin@example.com",)]
    else:
        assert answer.status_code == 400 and "switchyard backup" in answer.get_json()["detail"]
    monkeypatch.setenv("ENABLE_ADMIN_EXPORT", "false")
    refused = client.get("/api/v1/utils/db/download", headers=auth)
    assert refused.status_code == 401 and "permission" in refused.get_json()["detail"]
    assert client.get("/api/config", headers=auth).get_json()["features"]["enable_admin_export"] is False
