"""``/api/v1/skills``: skills and their files, versions (with conflicts), access grants, export and import,
cloning, and loading from a URL through the guarded fetch."""
from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest

from shared.errors import BadRequest
from shared.services import access, skills
from tests.fakes.fixtures import fake_skill_host, skill_host_server  # noqa: F401
from tests.fakes.skills import SKILL_MD
from tests.helpers import bearer
from tests.jobs.worker import running_worker

BASE = "/api/v1/skills"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00binary").decode()


def form(skill_id: str = "pdf-tools", **extra) -> dict:
    return {"id": skill_id, "name": "PDF tools", "description": "Work with PDFs", "content": "Use pypdf.", **extra}


def create(client, token: str, **extra):
    return client.post(f"{BASE}/create", headers=bearer(token), json=form(**extra))


def allow(client, admin, *workspace: str, **sharing) -> None:
    response = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                           json={"workspace": dict.fromkeys(workspace, True), "sharing": sharing})
    assert response.status_code == 200


def upload(*files: tuple[str, bytes], decisions: list | None = None) -> dict:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    if decisions is not None:
        data["decisions"] = json.dumps(decisions)
    return data


@pytest.fixture
def owner(client, admin, make_user) -> dict:
    allow(client, admin, "skills")
    return make_user("owner@example.com")


def test_create_read_list_toggle_delete(client, admin):
    headers = bearer(admin["token"])
    made = create(client, admin["token"], meta={"tags": ["docs"], "extra": 1}).get_json()
    assert (made["id"], made["user_id"], made["is_active"], made["meta"]) == (
        "pdf-tools", admin["id"], True, {"i18n": None, "tags": ["docs"]})
    assert made["version_id"] and "content" not in made and "data" not in made

    got = client.get(f"{BASE}/id/pdf-tools", headers=headers).get_json()
    assert got["content"] == "Use pypdf." and got["write_access"] is True and "data" not in got
    listed = client.get(f"{BASE}/?query=pdf", headers=headers).get_json()
    assert [s["id"] for s in listed] == ["pdf-tools"] and listed[0]["user"]["id"] == admin["id"]
    assert client.get(f"{BASE}/?query=csv", headers=headers).get_json() == []
    page = client.get(f"{BASE}/list?query=docs", headers=headers).get_json()  # meta (tags) is searched too
    assert page["total"] == 1 and page["items"][0]["write_access"] is True
    assert client.get(f"{BASE}/list?view_option=shared", headers=headers).get_json() == {"items": [], "total": 0}

    toggled = client.post(f"{BASE}/id/pdf-tools/toggle", headers=headers).get_json()
    assert toggled["is_active"] is False and toggled["data"]["files"] == [{"path": "SKILL.md", "content": "Use pypdf."}]
    assert client.delete(f"{BASE}/id/pdf-tools/delete", headers=headers).get_json() is True
    missing = client.get(f"{BASE}/id/pdf-tools", headers=headers)
    assert missing.status_code == 404 and "detail" in missing.get_json()


def test_ids_names_and_files_are_checked(client, admin):
    headers = bearer(admin["token"])
    made = create(client, admin["token"], skill_id="My Skill", content=None, files=[
        {"path": "SKILL.md", "content": "Steps."}, {"path": "scripts/run.py", "content": "print(1)"},
        {"path": "logo.png", "content": PNG, "encoding": "base64"}]).get_json()
    assert made["id"] == "my-skill"
    refusals = {
        "[ERROR: Invalid skill ID]": form("bad/id!"),
        "Uh-oh! This id is already registered. Please choose another id string.": form("my-skill", name="Other"),
        "A skill requires a UTF-8 SKILL.md at its root": form("x", name="X", files=[{"path": "a.md", "content": ""}]),
        "Duplicate file: SKILL.md": form("x", name="X", files=[{"path": "SKILL.md", "content": ""}] * 2),
        "Invalid file path": form("x", name="X", files=[{"path": "SKILL.md", "content": ""},
                                                        {"path": "a/../b", "content": ""}]),
        "File paths must be relative POSIX paths": form("x", name="X", files=[{"path": "/etc/x", "content": ""}]),
        "A file is also used as a directory: a/b": form("x", name="X", files=[
            {"path": "SKILL.md", "content": ""}, {"path": "a", "content": ""}, {"path": "a/b", "content": ""}]),
        "Provide data or files, not both": form("x", name="X", files=[{"path": "SKILL.md", "content": ""}],
                                                data={"files": [{"path": "SKILL.md", "content": ""}]}),
    }
    for detail, body in refusals.items():
        response = client.post(f"{BASE}/create", headers=headers, json=body)
        assert (response.status_code, response.get_json()["detail"]) == (400, detail), detail
    taken = create(client, admin["token"], skill_id="another")  # the name "PDF tools" is my-skill's
    assert taken.status_code == 409 and taken.get_json()["detail"] == "A skill with this name already exists"
    for body in (form("x", files=[{"path": "SKILL.md", "content": "", "mode": 7}]), form("x", meta={"tags": "a"}),
                 {"name": "no id"}, form("x", files=[{"path": "SKILL.md", "content": "", "encoding": "hex"}])):
        response = client.post(f"{BASE}/create", headers=headers, json=body)
        assert response.status_code == 422 and isinstance(response.get_json()["detail"], str), body


def test_users_need_the_workspace_permission(client, admin, make_user):
    user = make_user()
    refused = create(client, user["token"])
    assert refused.status_code == 401 and refused.get_json()["detail"] == "401 Unauthorized"
    allow(client, admin, "skills")
    assert create(client, user["token"]).status_code == 200


def test_file_changes_name_their_version_and_conflicts_are_409(client, admin):
    headers = bearer(admin["token"])
    first = create(client, admin["token"]).get_json()["version_id"]
    put = [{"op": "put", "path": "notes/a.md", "content": "A"}]
    missing = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={**form(), "operations": put})
    assert missing.status_code == 400
    assert missing.get_json()["detail"] == "expected_version_id is required for file updates"

    changed = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={
        "id": "pdf-tools", "name": "PDF tools", "operations": put, "expected_version_id": first,
        "commit_message": "notes"}).get_json()
    second = changed["version_id"]
    assert second != first and [f["path"] for f in changed["data"]["files"]] == ["SKILL.md", "notes/a.md"]
    assert changed["description"] == "Work with PDFs"  # left out: kept

    stale = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={
        "id": "pdf-tools", "name": "PDF tools", "operations": put, "expected_version_id": first})
    assert stale.status_code == 409
    assert stale.get_json()["detail"] == {"code": "version_conflict", "current_version_id": second}

    moved = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={
        "id": "pdf-tools", "name": "PDF tools", "expected_version_id": second,
        "operations": [{"op": "move", "path": "notes", "destination": "docs"}, {"op": "put", "path": "SKILL.md",
                                                                                 "content": "New steps."}]}).get_json()
    assert [f["path"] for f in moved["data"]["files"]] == ["SKILL.md", "docs/a.md"]
    assert moved["content"] == "New steps."
    for operation, detail in (({"op": "delete", "path": "SKILL.md"}, "SKILL.md cannot be moved or deleted"),
                              ({"op": "delete", "path": "nope"}, "File or directory not found: nope")):
        refused = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={
            "id": "pdf-tools", "name": "PDF tools", "expected_version_id": moved["version_id"],
            "operations": [operation]})
        assert (refused.status_code, refused.get_json()["detail"]) == (400, detail)

    renamed = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={"id": "pdf-tools", "name": "PDFs"})
    assert renamed.get_json()["name"] == "PDFs" and renamed.get_json()["version_id"] != moved["version_id"]
    again = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={"id": "pdf-tools", "name": "PDFs"})
    assert again.get_json()["version_id"] == renamed.get_json()["version_id"]  # nothing changed: no version


def test_files_history_diffs_and_versions(client, admin):
    headers = bearer(admin["token"])
    first = create(client, admin["token"], content=None, files=[
        {"path": "SKILL.md", "content": "one\ntwo"}, {"path": "logo.png", "content": PNG, "encoding": "base64"}],
        commit_message="start").get_json()["version_id"]
    second = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json={
        "id": "pdf-tools", "name": "PDF tools", "description": "Fill PDFs", "expected_version_id": first,
        "files": [{"path": "SKILL.md", "content": "one\nthree"}, {"path": "extra.md", "content": "x"}],
    }).get_json()["version_id"]

    now_files = client.get(f"{BASE}/id/pdf-tools/files", headers=headers).get_json()
    assert now_files == {"version_id": second, "files": [{"path": "SKILL.md", "size": 9, "encoding": None},
                                                         {"path": "extra.md", "size": 1, "encoding": None}]}
    old_files = client.get(f"{BASE}/id/pdf-tools/files?version_id={first}", headers=headers).get_json()
    assert old_files["files"][1] == {"path": "logo.png", "size": len(base64.b64decode(PNG)), "encoding": "base64"}
    picture = client.get(f"{BASE}/id/pdf-tools/files/content?path=logo.png&version_id={first}", headers=headers)
    assert picture.status_code == 200 and picture.data == base64.b64decode(PNG) and picture.mimetype == "image/png"
    assert picture.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in picture.headers[
        "Content-Disposition"]
    gone = client.get(f"{BASE}/id/pdf-tools/files/content?path=logo.png&version_id={second}", headers=headers)
    assert gone.status_code == 404 and gone.get_json()["detail"] == "File not found"

    history = client.get(f"{BASE}/id/pdf-tools/history", headers=headers).get_json()
    assert [h["id"] for h in history] == [second, first] and history[1]["commit_message"] == "start"
    assert history[0]["user"]["name"] == "Admin" and "snapshot" not in history[0]
    assert client.get(f"{BASE}/id/pdf-tools/history?page=2", headers=headers).get_json() == []
    entry = client.get(f"{BASE}/id/pdf-tools/history/{first}", headers=headers).get_json()
    assert entry["skill_id"] == "pdf-tools" and entry["snapshot"]["data"]["files"][0]["path"] == "SKILL.md"
    assert "content" not in entry["snapshot"]["data"]["files"][0]

    diff = client.get(f"{BASE}/id/pdf-tools/history/diff?from_id={first}&to_id={second}", headers=headers).get_json()
    assert diff["metadata"] == {"description": {"before": "Work with PDFs", "after": "Fill PDFs"}}
    assert diff["files"] == [{"path": "SKILL.md", "status": "modified", "binary": False},
                             {"path": "extra.md", "status": "added", "binary": False},
                             {"path": "logo.png", "status": "deleted", "binary": True}]
    text = client.get(f"{BASE}/id/pdf-tools/history/diff/file?from_id={first}&to_id={second}&path=SKILL.md",
                      headers=headers).get_json()
    assert text["binary"] is False and "-two" in text["diff"] and "+three" in text["diff"]
    binary = client.get(f"{BASE}/id/pdf-tools/history/diff/file?from_id={first}&to_id={second}&path=logo.png",
                        headers=headers).get_json()
    assert binary == {"binary": True}

    stale = client.post(f"{BASE}/id/pdf-tools/update/version", headers=headers,
                        json={"version_id": first, "expected_version_id": first})
    assert stale.status_code == 409 and stale.get_json()["detail"]["code"] == "version_conflict"
    restored = client.post(f"{BASE}/id/pdf-tools/update/version", headers=headers,
                           json={"version_id": first, "expected_version_id": second}).get_json()
    assert restored["version_id"] == first and restored["content"] == "one\ntwo"
    assert restored["description"] == "Work with PDFs"

    current = client.delete(f"{BASE}/id/pdf-tools/history/{first}", headers=headers)
    assert current.status_code == 400 and current.get_json()["detail"] == "Cannot delete the current version"
    assert client.delete(f"{BASE}/id/pdf-tools/history/{second}", headers=headers).get_json() is True
    assert client.get(f"{BASE}/id/pdf-tools/history/{second}", headers=headers).status_code == 404


def test_versions_of_another_skill_are_not_found(client, admin):
    headers = bearer(admin["token"])
    create(client, admin["token"])
    theirs = create(client, admin["token"], skill_id="other", name="Other").get_json()["version_id"]
    for path in (f"history/{theirs}", f"files?version_id={theirs}", f"history/diff?from_id={theirs}&to_id={theirs}"):
        assert client.get(f"{BASE}/id/pdf-tools/{path}", headers=headers).status_code == 404, path
    assert client.delete(f"{BASE}/id/pdf-tools/history/{theirs}", headers=headers).status_code == 404


def test_clone_copies_a_readable_skill_as_the_caller_s(client, admin, owner, make_user):
    made = create(client, admin["token"], content=None, files=[
        {"path": "SKILL.md", "content": "Steps."}, {"path": "a.txt", "content": "A"}],
        access_grants=[{"principal_type": "user", "principal_id": owner["id"], "permission": "read"}]).get_json()
    copy = client.post(f"{BASE}/id/pdf-tools/clone", headers=bearer(owner["token"]),
                       json={"id": "my-copy", "name": "My copy"})
    assert copy.status_code == 200
    body = copy.get_json()
    assert (body["user_id"], body["access_grants"], body["description"]) == (owner["id"], [], "Work with PDFs")
    files = client.get(f"{BASE}/id/my-copy/files", headers=bearer(owner["token"])).get_json()["files"]
    assert [f["path"] for f in files] == ["SKILL.md", "a.txt"]
    old = client.post(f"{BASE}/id/pdf-tools/clone", headers=bearer(admin["token"]),
                      json={"id": "old-copy", "name": "Old copy", "version_id": made["version_id"]})
    assert old.status_code == 200
    taken = client.post(f"{BASE}/id/pdf-tools/clone", headers=bearer(owner["token"]),
                        json={"id": "third", "name": "My copy"})
    assert taken.status_code == 409


def test_another_user_cannot_reach_a_private_skill(client, admin, owner, make_user):
    other = make_user("other@example.com")
    allow(client, admin, "skills", "skills_export")
    made = create(client, owner["token"]).get_json()
    version = made["version_id"]
    headers = bearer(other["token"])
    for method, path, body in (
            ("GET", "/id/pdf-tools", None), ("POST", "/id/pdf-tools/update", form(description="mine")),
            ("POST", "/id/pdf-tools/access/update", {"access_grants": []}), ("POST", "/id/pdf-tools/toggle", None),
            ("DELETE", "/id/pdf-tools/delete", None), ("GET", "/id/pdf-tools/files", None),
            ("GET", f"/id/pdf-tools/files/content?path=SKILL.md&version_id={version}", None),
            ("GET", "/id/pdf-tools/history", None), ("GET", f"/id/pdf-tools/history/{version}", None),
            ("DELETE", f"/id/pdf-tools/history/{version}", None),
            ("GET", f"/id/pdf-tools/history/diff?from_id={version}&to_id={version}", None),
            ("GET", f"/id/pdf-tools/history/diff/file?from_id={version}&to_id={version}&path=SKILL.md", None),
            ("POST", "/id/pdf-tools/update/version", {"version_id": version, "expected_version_id": version}),
            ("POST", "/id/pdf-tools/clone", {"id": "stolen", "name": "Stolen"}),
            ("GET", "/export?ids=pdf-tools", None)):
        response = client.open(BASE + path, method=method, headers=headers, json=body)
        assert response.status_code == 404, (method, path)
    assert client.get(f"{BASE}/", headers=headers).get_json() == []
    assert client.get(f"{BASE}/list", headers=headers).get_json() == {"items": [], "total": 0}
    assert client.get(f"{BASE}/export", headers=headers).get_json() == []
    assert client.get(f"{BASE}/id/pdf-tools", headers=bearer(owner["token"])).get_json()["description"] == (
        "Work with PDFs")


def test_grants_let_another_user_read_or_write(client, admin, owner, make_user):
    other = make_user("other@example.com")
    create(client, owner["token"])
    headers = bearer(other["token"])
    read = [{"principal_type": "user", "principal_id": other["id"], "permission": "read"}]
    refused = client.post(f"{BASE}/id/pdf-tools/access/update", headers=bearer(owner["token"]),
                          json={"access_grants": read})  # no sharing permission
    assert (refused.status_code, refused.get_json()) == (403, {"detail": access.SHARE_REFUSED})
    shared = client.post(f"{BASE}/id/pdf-tools/access/update", headers=bearer(admin["token"]),
                         json={"access_grants": read}).get_json()
    assert shared["access_grants"][0]["principal_id"] == other["id"]
    seen = client.get(f"{BASE}/id/pdf-tools", headers=headers).get_json()
    assert seen["write_access"] is False and seen["content"] == "Use pypdf."
    assert client.get(f"{BASE}/list", headers=headers).get_json()["items"][0]["write_access"] is False
    assert client.get(f"{BASE}/id/pdf-tools/history", headers=headers).status_code == 200
    for method, path, body in (("POST", "/id/pdf-tools/update", form(description="x")),
                               ("POST", "/id/pdf-tools/toggle", None), ("DELETE", "/id/pdf-tools/delete", None)):
        assert client.open(BASE + path, method=method, headers=headers, json=body).status_code == 401, path

    write = [{"principal_type": "user", "principal_id": other["id"], "permission": "write"}]
    client.post(f"{BASE}/id/pdf-tools/access/update", headers=bearer(admin["token"]), json={"access_grants": write})
    changed = client.post(f"{BASE}/id/pdf-tools/update", headers=headers, json=form(description="By other"))
    assert changed.status_code == 200 and changed.get_json()["user_id"] == owner["id"]
    assert client.get(f"{BASE}/id/pdf-tools/history", headers=headers).get_json()[0]["user_id"] == other["id"]


def test_export_as_json_and_zip(client, admin, make_user):
    headers = bearer(admin["token"])
    first = create(client, admin["token"], content="---\nname: pdf-tools\n---\nOld").get_json()["version_id"]
    create(client, admin["token"], skill_id="csv", name="CSV", content="Read CSV.")
    client.post(f"{BASE}/id/pdf-tools/update", headers=headers,
                json={**form(), "content": "---\nname: pdf-tools\n---\nNew", "expected_version_id": first})

    everything = client.get(f"{BASE}/export", headers=headers).get_json()
    assert sorted(p["id"] for p in everything) == ["csv", "pdf-tools"]
    one = client.get(f"{BASE}/export?ids=pdf-tools&version_id={first}", headers=headers).get_json()
    assert one["files"] == [{"path": "SKILL.md", "content": "---\nname: pdf-tools\n---\nOld"}]
    assert one["is_active"] is True and one["meta"] == {"i18n": None, "tags": []}

    archive = client.get(f"{BASE}/export?format=zip&ids=pdf-tools&ids=csv", headers=headers)
    assert archive.mimetype == "application/zip" and "skills.zip" in archive.headers["Content-Disposition"]
    names = sorted(zipfile.ZipFile(io.BytesIO(archive.data)).namelist())
    assert names == ["csv/SKILL.md", "pdf-tools/SKILL.md"]
    single = client.get(f"{BASE}/export?format=skill&ids=csv", headers=headers)
    assert "csv.skill" in single.headers["Content-Disposition"]
    for query, detail in (("format=skill", "Select one skill to export as .skill"),
                          (f"version_id={first}", "Select one skill to export a historical version"),
                          ("format=tar", "Export format must be json, zip, or skill")):
        refused = client.get(f"{BASE}/export?{query}", headers=headers)
        assert (refused.status_code, refused.get_json()["detail"]) == (400, detail)
    user = make_user()
    refused = client.get(f"{BASE}/export", headers=bearer(user["token"]))
    assert refused.status_code == 403 and refused.get_json()["detail"] == "Export permission required"


def test_import_preview_and_decisions(client, admin, make_user):
    headers = bearer(admin["token"])
    existing = create(client, admin["token"]).get_json()
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("pdf-tools/SKILL.md", SKILL_MD)
        archive.writestr("pdf-tools/scripts/fill.py", "print('fill')")
        archive.writestr("csv/SKILL.md", "---\nname: csv\ndescription: Read CSV\n---\nRead.")
    files = (("bundle.zip", bundle.getvalue()), ("notes.md", b"---\nname: Note taking\n---\nTake notes."))

    preview = client.post(f"{BASE}/import/preview", headers=headers, data=upload(*files)).get_json()
    assert [(p["index"], p["id"], p["name"]) for p in preview] == [
        (0, "csv", "csv"), (1, "pdf-tools", "pdf-tools"), (2, "note-taking", "Note taking")]
    assert preview[1]["id_taken"] is True and preview[1]["can_replace"] is True
    assert preview[1]["expected_version_id"] == existing["version_id"] and preview[1]["name_taken"] is False
    assert preview[1]["files"] == [{"path": "SKILL.md", "size": len(SKILL_MD), "encoding": None},
                                   {"path": "scripts/fill.py", "size": 13, "encoding": None}]
    assert preview[0]["description"] == "Read CSV" and preview[0]["id_taken"] is False

    decisions = [{"action": "create"}, {"action": "replace", "expected_version_id": existing["version_id"]},
                 {"action": "copy", "id": "notes", "name": "csv"}]
    results = client.post(f"{BASE}/import", headers=headers, data=upload(*files, decisions=decisions)).get_json()
    assert results[:2] == [{"status": "saved", "id": "csv"}, {"status": "saved", "id": "pdf-tools"}]
    assert results[2] == {"status": "error", "id": "note-taking", "error": "A skill with this name already exists"}
    assert client.get(f"{BASE}/id/notes", headers=headers).status_code == 404  # the failed one left nothing
    replaced = client.get(f"{BASE}/id/pdf-tools/files", headers=headers).get_json()["files"]
    assert [f["path"] for f in replaced] == ["SKILL.md", "scripts/fill.py"]

    stale = client.post(f"{BASE}/import", headers=headers, data=upload(*files, decisions=[
        {"action": "skip"}, {"action": "replace", "expected_version_id": existing["version_id"]}, {"action": "x"}]))
    assert [r["status"] for r in stale.get_json()] == ["skipped", "error", "error"]
    assert stale.get_json()[1]["error"]["code"] == "version_conflict"

    for path, data, detail in (
            ("/import", upload(*files, decisions=[{}]), "One decision is required per skill"),
            ("/import", upload(*files), "Invalid request: decisions: Missing data for required field."),
            ("/import/preview", upload(("x.exe", b"MZ")), "Use JSON, ZIP, .skill, or Markdown"),
            ("/import/preview", {}, "Invalid request: files: Missing data for required field.")):
        refused = client.post(BASE + path, headers=headers, data=data)
        assert (refused.status_code, refused.get_json()["detail"]) == (400, detail), detail

    user = make_user()
    refused = client.post(f"{BASE}/import/preview", headers=bearer(user["token"]), data=upload(*files))
    assert refused.status_code == 403 and refused.get_json()["detail"] == "Import permission required"


def test_a_picked_folder_imports_its_skills(client, admin):
    folder = (("team/pdf/SKILL.md", SKILL_MD), ("team/pdf/ref/guide.md", b"Guide"), ("team/csv/SKILL.md", b"CSV"))
    preview = client.post(f"{BASE}/import/preview", headers=bearer(admin["token"]), data=upload(*folder)).get_json()
    assert sorted((p["id"], len(p["files"])) for p in preview) == [("imported-skill", 1), ("pdf-tools", 2)]
    stray = client.post(f"{BASE}/import/preview", headers=bearer(admin["token"]),
                        data=upload(*folder, ("team/loose.txt", b"x")))
    assert stray.status_code == 400 and stray.get_json()["detail"] == "Files outside skill directories"


def test_loading_from_a_private_address_is_refused_by_default(fake_skill_host):
    with pytest.raises(BadRequest, match="private or local network address"):
        skills.load_from_url(f"{fake_skill_host.url}/skills/pdf/SKILL.md")
    assert fake_skill_host.requests == []  # refused before connecting


@pytest.fixture(scope="module")
def loader():
    """A worker for the download jobs, allowed to fetch from loopback (where the fake skill host runs)."""
    with running_worker(threads=2, modules=(), env={"ENABLE_LOCAL_WEB_FETCH": "true"}) as process:
        yield process


def load(client, token: str, url: str):
    return client.post(f"{BASE}/load/url", headers=bearer(token), json={"url": url})


def test_load_url_reads_a_skill_or_an_archive(client, admin, loader, fake_skill_host):
    loaded = load(client, admin["token"], f"{fake_skill_host.url}/skills/pdf/SKILL.md")
    assert loaded.status_code == 200, loaded.get_json()
    assert loaded.get_json() == [{"id": "pdf-tools", "name": "pdf-tools", "description": "Work with PDF files",
                                  "meta": {}, "files": [{"path": "SKILL.md", "content": SKILL_MD.decode()}]}]
    archive = load(client, admin["token"], f"{fake_skill_host.url}/skills.zip").get_json()
    assert sorted((p["id"], [f["path"] for f in p["files"]]) for p in archive) == [
        ("csv", ["SKILL.md"]), ("pdf-tools", ["SKILL.md", "scripts/fill.py"])]
    redirected = load(client, admin["token"], f"{fake_skill_host.url}/redirect?to=/skills/pdf/SKILL.md")
    assert redirected.get_json()[0]["id"] == "pdf-tools"


def test_load_url_refusals(client, admin, make_user, loader, fake_skill_host):
    for url, detail in (
            ("http://169.254.169.254/latest/meta-data/", "private or local network address"),
            (f"{fake_skill_host.url}/redirect?to=http://169.254.169.254/", "private or local network address"),
            (f"{fake_skill_host.url}/page", "The URL returned a web page"),
            (f"{fake_skill_host.url}/missing", "The server answered 404")):
        refused = load(client, admin["token"], url)
        assert refused.status_code == 400 and detail in refused.get_json()["detail"], (url, refused.get_json())
    assert load(client, admin["token"], "ftp://example.com/SKILL.md").status_code == 422
    assert load(client, admin["token"], "https://user:pw@example.com/x").status_code == 400
    assert load(client, make_user()["token"], f"{fake_skill_host.url}/skills.zip").status_code == 401
