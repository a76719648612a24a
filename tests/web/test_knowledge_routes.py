"""``/api/v1/knowledge``: access update, file pages, batch add, export, reindex, directories and folder sync."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from shared import messages
from shared.db import session_scope
from shared.models import File, Job
from shared.rag.vectors import get_vector_store
from tests.conftest import SQLITE
from tests.helpers import bearer
from tests.jobs.test_lifecycle import finish, row
from tests.rag_support import (  # noqa: F401
    embeddings, fake_ollama, query_collection, rag_worker, upload, wait_processed,
)
from tests.web.test_knowledge import allow_workspace_knowledge, create


def held(client, token: str, name: str) -> dict:
    """A stored, unprocessed text file."""
    return upload(client, token, f"{name} text".encode(), name, query="?process=false")


def add(client, token: str, kb_id: str, file_id: str, directory_id: str | None = None):
    return client.post(f"/api/v1/knowledge/{kb_id}/file/add", headers=bearer(token),
                       json={"file_id": file_id, "directory_id": directory_id})


def mkdir(client, token: str, kb_id: str, name: str, parent_id: str | None = None):
    return client.post(f"/api/v1/knowledge/{kb_id}/dirs/create", headers=bearer(token),
                       json={"name": name, "parent_id": parent_id})


def files(client, token: str, kb_id: str, query: str = ""):
    response = client.get(f"/api/v1/knowledge/{kb_id}/files?{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_access_update_replaces_the_grants(client, admin, make_user):
    allow_workspace_knowledge(client, admin)
    owner, reader, outsider = make_user("owner@example.com"), make_user("reader@example.com"), make_user()
    kb = create(client, owner["token"]).get_json()
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bearer(reader["token"])).status_code == 404

    # a user without sharing permissions is refused (as Open WebUI); an admin-enabled one may name users
    grant = [{"principal_type": "user", "principal_id": reader["id"], "permission": "read"}]
    refused = client.post(f"/api/v1/knowledge/{kb['id']}/access/update", headers=bearer(owner["token"]),
                          json={"access_grants": grant})
    assert refused.status_code == 403 and "share" in refused.get_json()["detail"]
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bearer(owner["token"])).get_json()["access_grants"] == []
    client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]), json={
        "workspace": {"knowledge": True}, "sharing": {"knowledge": True},
        "access_grants": {"allow_users": True}})
    shared = client.post(f"/api/v1/knowledge/{kb['id']}/access/update", headers=bearer(owner["token"]),
                         json={"access_grants": grant}).get_json()
    assert [(g["principal_id"], g["permission"]) for g in shared["access_grants"]] == [(reader["id"], "read")]
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bearer(reader["token"])).status_code == 200

    # a reader may not change who reads; someone without access does not learn the base exists
    refused = client.post(f"/api/v1/knowledge/{kb['id']}/access/update", headers=bearer(reader["token"]),
                          json={"access_grants": []})
    assert refused.status_code == 401 and refused.get_json()["detail"] == messages.ACCESS_PROHIBITED
    assert client.post(f"/api/v1/knowledge/{kb['id']}/access/update", headers=bearer(outsider["token"]),
                       json={"access_grants": []}).status_code == 404
    missing = client.post(f"/api/v1/knowledge/{kb['id']}/access/update", headers=bearer(owner["token"]), json={})
    assert missing.status_code == 422 and "access_grants" in str(missing.get_json()["detail"])


def test_directories_and_the_filtered_file_pages(client, admin, make_user):
    token = admin["token"]
    kb = create(client, token).get_json()
    docs = mkdir(client, token, kb["id"], "docs").get_json()
    assert {k: docs[k] for k in ("knowledge_id", "parent_id", "name", "user_id")} == {
        "knowledge_id": kb["id"], "parent_id": None, "name": "docs", "user_id": admin["id"]}
    api = mkdir(client, token, kb["id"], "api", docs["id"]).get_json()
    assert mkdir(client, token, kb["id"], "docs").status_code == 400  # the name is taken at the root
    assert mkdir(client, token, kb["id"], "x", "no-such-dir").get_json()["detail"] == "Parent directory not found."

    readme, guide, spec = (held(client, token, n) for n in ("readme.md", "guide.txt", "spec.txt"))
    add(client, token, kb["id"], readme["id"])
    add(client, token, kb["id"], guide["id"], docs["id"])
    add(client, token, kb["id"], spec["id"], api["id"])

    everything = files(client, token, kb["id"], "order_by=name&direction=asc")
    assert [f["filename"] for f in everything["items"]] == ["guide.txt", "readme.md", "spec.txt"]
    assert everything["total"] == 3 and everything["breadcrumbs"] == []
    assert [d["name"] for d in everything["directories"]] == ["docs"]
    by_name = {f["filename"]: f for f in everything["items"]}
    assert by_name["spec.txt"]["directory_path"] == "docs/api" and by_name["spec.txt"]["directory_id"] == api["id"]
    assert by_name["spec.txt"]["user"]["id"] == admin["id"] and by_name["spec.txt"]["has_original"] is True
    assert by_name["readme.md"]["directory_id"] is None and by_name["readme.md"]["data"] is None

    root = files(client, token, kb["id"], "directory_id=")
    assert [f["filename"] for f in root["items"]] == ["readme.md"]
    inside = files(client, token, kb["id"], f"directory_id={api['id']}")
    assert [f["filename"] for f in inside["items"]] == ["spec.txt"]
    assert [d["name"] for d in inside["breadcrumbs"]] == ["docs", "api"] and inside["directories"] == []
    assert [f["filename"] for f in files(client, token, kb["id"], "query=GUI")["items"]] == ["guide.txt"]
    assert files(client, token, kb["id"], "view_option=shared")["total"] == 0
    assert len(files(client, token, kb["id"], "limit=2")["items"]) == 2

    # moves: a file into a directory, a directory into its own subtree (refused), a directory to the root
    assert client.post(f"/api/v1/knowledge/{kb['id']}/file/move", headers=bearer(token),
                       json={"file_id": readme["id"], "directory_id": api["id"]}).get_json() == {"status": True}
    moved = files(client, token, kb["id"], f"directory_id={api['id']}&order_by=name&direction=asc")
    assert [f["filename"] for f in moved["items"]] == ["readme.md", "spec.txt"]
    assert client.post(f"/api/v1/knowledge/{kb['id']}/file/move", headers=bearer(token),
                       json={"file_id": readme["id"], "directory_id": "nope"}).status_code == 404
    assert client.post(f"/api/v1/knowledge/{kb['id']}/file/move", headers=bearer(token),
                       json={"file_id": "not-held", "directory_id": None}).status_code == 404
    circular = client.post(f"/api/v1/knowledge/{kb['id']}/dirs/{docs['id']}/update", headers=bearer(token),
                           json={"parent_id": api["id"]})
    assert circular.status_code == 400
    renamed = client.post(f"/api/v1/knowledge/{kb['id']}/dirs/{api['id']}/update", headers=bearer(token),
                          json={"name": "reference", "parent_id": None}).get_json()
    assert renamed["name"] == "reference" and renamed["parent_id"] is None
    kept = client.post(f"/api/v1/knowledge/{kb['id']}/dirs/{api['id']}/update", headers=bearer(token),
                       json={"name": "ref"}).get_json()
    assert kept["parent_id"] is None  # parent_id left out: it stays where it is

    # deleting a directory moves its files up, or (move_files=false) takes them out and deletes them
    up = client.delete(f"/api/v1/knowledge/{kb['id']}/dirs/{docs['id']}/delete", headers=bearer(token))
    assert up.get_json() == {"status": True, "file_ids": []}
    assert sorted(f["filename"] for f in files(client, token, kb["id"], "directory_id=")["items"]) == ["guide.txt"]
    gone = client.delete(f"/api/v1/knowledge/{kb['id']}/dirs/{api['id']}/delete?move_files=false",
                         headers=bearer(token)).get_json()
    assert sorted(gone["file_ids"]) == sorted([readme["id"], spec["id"]])
    assert files(client, token, kb["id"])["total"] == 1
    assert client.get(f"/api/v1/files/{spec['id']}", headers=bearer(token)).status_code == 404

    # another user's knowledge base: its directories are out of reach
    other = make_user()
    allow_workspace_knowledge(client, admin)
    theirs = create(client, other["token"], name="Theirs").get_json()
    foreign = mkdir(client, other["token"], theirs["id"], "mine").get_json()
    assert client.post(f"/api/v1/knowledge/{kb['id']}/dirs/{foreign['id']}/update", headers=bearer(token),
                       json={"name": "stolen"}).status_code == 404
    assert mkdir(client, other["token"], kb["id"], "intrusion").status_code == 404
    assert client.delete(f"/api/v1/knowledge/{theirs['id']}/dirs/{foreign['id']}/delete",
                         headers=bearer(make_user("third@example.com")["token"])).status_code == 404


def test_pending_files_and_the_export(client, admin, make_user):
    token = admin["token"]
    kb = create(client, token).get_json()
    assert client.get(f"/api/v1/knowledge/{kb['id']}/files/pending", headers=bearer(token)).get_json() == []
    streamed = client.get(f"/api/v1/knowledge/{kb['id']}/files/pending?stream=true", headers=bearer(token))
    assert streamed.mimetype == "text/event-stream" and streamed.get_data(as_text=True) == "data: []\n\n"

    # a file stored for the base whose processing has not linked it yet (as an interrupted upload leaves it)
    in_flight = held(client, token, "in-flight.txt")
    with session_scope() as session:
        row_ = session.get(File, in_flight["id"])
        row_.meta = {**row_.meta, "data": {"knowledge_id": kb["id"]}}
        row_.data = {"status": "processing"}
    pending = client.get(f"/api/v1/knowledge/{kb['id']}/files/pending", headers=bearer(token)).get_json()
    assert [f["id"] for f in pending] == [in_flight["id"]]
    diff = client.post(f"/api/v1/knowledge/{kb['id']}/sync/diff", headers=bearer(token), json={"manifest": [
        {"filename": "in-flight.txt", "path": "", "checksum": in_flight["meta"]["file_hash"], "size": 1}]}).get_json()
    assert diff["added"] == [] and diff["unmodified_count"] == 1  # not uploaded twice
    outsider = make_user("outsider@example.com")
    pending = client.get(f"/api/v1/knowledge/{kb['id']}/files/pending", headers=bearer(outsider["token"]))
    assert pending.status_code == 404

    notes = upload(client, token, b"Office hours are nine to five.", "notes.md", query="?process=false")
    client.post(f"/api/v1/files/{notes['id']}/data/content/update", headers=bearer(token),
                json={"content": "Office hours are nine to five."})
    add(client, token, kb["id"], notes["id"])
    add(client, token, kb["id"], held(client, token, "empty.txt")["id"])
    client.post(f"/api/v1/knowledge/{kb['id']}/update", headers=bearer(token), json={"name": "Team/Handbook"})

    exported = client.get(f"/api/v1/knowledge/{kb['id']}/export", headers=bearer(token))
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert exported.headers["Content-Disposition"] == "attachment; filename*=UTF-8''Team_Handbook.zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.get_data()))
    assert archive.namelist() == ["notes.md.txt"]
    assert archive.read("notes.md.txt").decode() == "Office hours are nine to five."

    user = make_user()
    assert client.get(f"/api/v1/knowledge/{kb['id']}/export", headers=bearer(user["token"])).status_code == 401
    assert client.get("/api/v1/knowledge/nope/export", headers=bearer(token)).status_code == 404


def test_batch_add_indexes_the_files_and_lists_failures(client, admin, make_user, embeddings):
    token = admin["token"]
    kb = create(client, token).get_json()
    ready = upload(client, token, b"The library closes at eight.", "library.txt")
    wait_processed(client, token, ready["id"])
    later = upload(client, token, b"Bicycles are parked in the yard.", "bikes.txt", query="?process=false")
    broken = upload(client, token, b"\x00\x01", "blob.bin", "application/octet-stream")
    assert wait_processed(client, token, broken["id"])[-1]["status"] == "failed"
    docs = mkdir(client, token, kb["id"], "docs").get_json()

    other = make_user()
    theirs = upload(client, other["token"], b"private", "private.txt", query="?process=false")
    refused = client.post(f"/api/v1/knowledge/{kb['id']}/files/batch/add", headers=bearer(token),
                          json=[{"file_id": ready["id"]}, {"file_id": "missing"}])
    assert refused.status_code == 400 and refused.get_json()["detail"] == "File missing not found"
    assert files(client, token, kb["id"])["total"] == 0  # all or nothing
    allow_workspace_knowledge(client, admin)
    their_kb = create(client, other["token"], name="Theirs").get_json()
    stolen = client.post(f"/api/v1/knowledge/{their_kb['id']}/files/batch/add", headers=bearer(other["token"]),
                         json=[{"file_id": ready["id"]}])
    assert stolen.status_code == 400  # someone else's file is not found
    assert client.post(f"/api/v1/knowledge/{kb['id']}/files/batch/add", headers=bearer(other["token"]),
                       json=[{"file_id": theirs["id"]}]).status_code == 404
    assert client.post(f"/api/v1/knowledge/{kb['id']}/files/batch/add", headers=bearer(token),
                       json={"file_id": ready["id"]}).status_code == 422

    added = client.post(f"/api/v1/knowledge/{kb['id']}/files/batch/add", headers=bearer(token), json=[
        {"file_id": ready["id"], "directory_id": docs["id"]}, {"file_id": later["id"]}, {"file_id": broken["id"]}])
    body = added.get_json()
    assert added.status_code == 200 and sorted(f["id"] for f in body["files"]) == sorted([ready["id"], later["id"]])
    assert body["warnings"]["message"] == "Some files failed to process"
    assert [e.split(":")[0] for e in body["warnings"]["errors"]] == [broken["id"]]
    assert [f["id"] for f in files(client, token, kb["id"], f"directory_id={docs['id']}")["items"]] == [ready["id"]]

    # the processed file's chunks are in the knowledge base at once; the other one's come with its processing
    hit = query_collection(client, token, [kb["id"]], "when does the library close", k=1).get_json()
    assert hit["documents"][0] == ["The library closes at eight."]
    client.post(f"/api/v1/knowledge/{kb['id']}/file/update", headers=bearer(token), json={"file_id": later["id"]})
    wait_processed(client, token, later["id"])
    bikes = query_collection(client, token, [kb["id"]], "where are bicycles parked", k=1).get_json()
    assert bikes["documents"][0] == ["Bicycles are parked in the yard."]
    again = client.post(f"/api/v1/knowledge/{kb['id']}/files/batch/add", headers=bearer(token),
                        json=[{"file_id": ready["id"]}]).get_json()
    assert len(again["files"]) == 2 and "warnings" not in again


def test_reindex_embeds_every_knowledge_file_again_and_lists_failures(client, admin, make_user, embeddings):
    token = admin["token"]
    kb = create(client, token).get_json()
    ready = upload(client, token, b"Visitors sign in at the front desk.", "visitors.txt")
    wait_processed(client, token, ready["id"])
    add(client, token, kb["id"], ready["id"])
    textless = held(client, token, "unprocessed.txt")
    add(client, token, kb["id"], textless["id"])
    assert client.post("/api/v1/knowledge/reindex", headers=bearer(make_user()["token"])).status_code == 401

    calls_before = len(embeddings.received("/api/embed"))
    started = client.post("/api/v1/knowledge/reindex", headers=bearer(token))
    job_id = started.get_json()["job_id"]
    assert started.status_code == 202 and started.headers["Location"] == f"/api/v1/jobs/{job_id}"
    events = finish(job_id, timeout=30)
    assert any(e.type == "progress" for e in events)
    job = row(job_id)
    assert job.status == "succeeded" and job.kind == "knowledge.reindex"
    assert job.result["files"] == 2 and job.result["knowledge_bases"] == 1
    assert job.result["failed"] == [{"file_id": textless["id"], "error": "The file has no extracted text to index."}]
    assert len(embeddings.received("/api/embed")) > calls_before  # the text was embedded again
    hit = query_collection(client, token, [kb["id"]], "where do visitors sign in", k=5).get_json()
    assert hit["documents"][0] == ["Visitors sign in at the front desk."]  # replaced, not duplicated


def test_sync_diff_and_cleanup(client, admin, make_user):
    token = admin["token"]
    kb = create(client, token).get_json()
    docs = mkdir(client, token, kb["id"], "docs").get_json()
    old = mkdir(client, token, kb["id"], "old").get_json()
    same, changed, dropped = (held(client, token, n) for n in ("same.txt", "changed.txt", "dropped.txt"))
    add(client, token, kb["id"], same["id"], docs["id"])
    add(client, token, kb["id"], changed["id"])
    add(client, token, kb["id"], dropped["id"], old["id"])

    def entry(name: str, path: str, data: bytes) -> dict:
        return {"filename": name, "path": path, "checksum": hashlib.sha256(data).hexdigest(), "size": len(data)}

    manifest = [entry("same.txt", "docs", b"same.txt text"), entry("changed.txt", "", b"new text"),
                entry("new.txt", "docs/api", b"fresh")]
    diff = client.post(f"/api/v1/knowledge/{kb['id']}/sync/diff", headers=bearer(token),
                       json={"manifest": manifest}).get_json()
    assert diff == {
        "added": [{"filename": "new.txt", "path": "docs/api"}],
        "modified": [{"filename": "changed.txt", "path": "", "stale_file_id": changed["id"]}],
        "deleted": [{"file_id": dropped["id"], "filename": "dropped.txt"}],
        "mkdir": ["docs/api"], "rmdir": [old["id"]], "unmodified_count": 1,
        "directory_map": {"docs": docs["id"], "old": old["id"]},
    }
    bad = client.post(f"/api/v1/knowledge/{kb['id']}/sync/diff", headers=bearer(token),
                      json={"manifest": [{"filename": "x"}]})
    assert bad.status_code == 422

    reader = make_user()
    assert client.post(f"/api/v1/knowledge/{kb['id']}/sync/cleanup", headers=bearer(reader["token"]),
                       json={"file_ids": [dropped["id"]]}).status_code == 404
    cleaned = client.post(f"/api/v1/knowledge/{kb['id']}/sync/cleanup", headers=bearer(token),
                          json={"file_ids": [dropped["id"], "not-held"], "dir_ids": diff["rmdir"]})
    assert cleaned.get_json() == {"status": True}
    assert sorted(f["filename"] for f in files(client, token, kb["id"])["items"]) == ["changed.txt", "same.txt"]
    assert [d["name"] for d in files(client, token, kb["id"])["directories"]] == ["docs"]
    assert client.get(f"/api/v1/files/{dropped['id']}", headers=bearer(token)).status_code == 404


def settle_metadata_jobs() -> None:
    """Wait for the jobs that embedded the bases' names after a create or an edit."""
    with session_scope() as session:
        job_ids = list(session.scalars(select(Job.id).where(Job.kind == "knowledge.metadata")))
    for job_id in job_ids:
        finish(job_id, timeout=30)
        assert row(job_id).status == "succeeded", row(job_id).error


@pytest.mark.skipif(SQLITE, reason="on SQLite a base's first metadata vector was seen missing once; not yet explained")
def test_the_knowledge_search_collection_follows_creates_edits_deletes_and_reindex(client, admin, make_user,
                                                                                  embeddings):
    token, user = admin["token"], make_user()
    harbor = create(client, token, name="Harbor schedules", description="ferry times and berths").get_json()
    plain = create(client, token, name="Onboarding", description="").get_json()
    settle_metadata_jobs()

    def found(query: str) -> list:
        answer = query_collection(client, token, ["knowledge-bases"], query, k=5)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        return list(zip(body["documents"][0], [m["knowledge_base_id"] for m in body["metadatas"][0]]))

    assert set(found("ferry times")) == {("Harbor schedules\n\nferry times and berths", harbor["id"]),
                                         ("Onboarding", plain["id"])}
    assert query_collection(client, user["token"], ["knowledge-bases"], "ferry").status_code == 403
    assert client.post("/api/v1/retrieval/process/text", headers=bearer(token), json={
        "name": "n", "content": "planted", "collection_name": "knowledge-bases"}).status_code == 403

    assert client.post(f"/api/v1/knowledge/{harbor['id']}/update", headers=bearer(token),
                       json={"name": "Harbour timetables", "description": "ferry times"}).status_code == 200
    settle_metadata_jobs()
    assert client.delete(f"/api/v1/knowledge/{plain['id']}/delete", headers=bearer(token)).status_code == 200
    assert found("ferry times") == [("Harbour timetables\n\nferry times", harbor["id"])]  # replaced, one each

    assert client.post("/api/v1/knowledge/metadata/reindex", headers=bearer(user["token"])).status_code == 401
    with session_scope() as session:  # a base whose vector went missing (made while the engine was down)
        get_vector_store().delete(session, collection="knowledge-bases")
    again = client.post("/api/v1/knowledge/metadata/reindex", headers=bearer(token))
    assert again.status_code == 200 and again.get_json() == {"total": 1, "success": 1}
    assert found("ferry times") == [("Harbour timetables\n\nferry times", harbor["id"])]
