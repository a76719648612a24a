"""``/api/v1/knowledge``: knowledge bases, access grants, their files and retrieval over them."""
from __future__ import annotations

import io

from sqlalchemy import select

from shared import messages
from shared.db import session_scope
from shared.models import Job, Knowledge, User
from shared.services import access
from tests.helpers import bearer
from tests.rag_support import (  # noqa: F401
    embeddings, fake_ollama, query_collection, rag_worker, upload, wait_processed,
)


def create(client, token: str, name: str = "Handbook", **extra):
    return client.post("/api/v1/knowledge/create", headers=bearer(token),
                       json={"name": name, "description": "team docs", **extra})


def share(knowledge_id: str, *user_ids: str, permission: str = "read") -> None:
    """Grant users access as an admin would (the update route leaves grants alone, as Open WebUI's does)."""
    with session_scope() as session:
        admin = session.scalars(select(User).where(User.role == "admin")).first()
        grants = [{"principal_type": "user", "principal_id": uid, "permission": permission} for uid in user_ids]
        access.set_grants(session, admin, session.get(Knowledge, knowledge_id),
                          grants + list(session.get(Knowledge, knowledge_id).access_grants or []), "knowledge")


def allow_workspace_knowledge(client, admin) -> None:
    response = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]),
                           json={"workspace": {"knowledge": True}})
    assert response.status_code == 200


def test_users_need_the_workspace_permission(client, admin, make_user):
    user = make_user()
    assert create(client, user["token"]).status_code == 401
    allow_workspace_knowledge(client, admin)
    made = create(client, user["token"])
    assert made.status_code == 200 and made.get_json()["user_id"] == user["id"]


def test_create_get_update_list_delete(client, admin):
    made = create(client, admin["token"]).get_json()
    assert made["name"] == "Handbook" and made["access_grants"] == [] and made["files"] == []
    got = client.get(f"/api/v1/knowledge/{made['id']}", headers=bearer(admin["token"])).get_json()
    assert got["write_access"] is True and got["files"] == []
    updated = client.post(f"/api/v1/knowledge/{made['id']}/update", headers=bearer(admin["token"]),
                          json={"name": "Manual", "description": "v2"}).get_json()
    assert (updated["name"], updated["description"]) == ("Manual", "v2")
    listed = client.get("/api/v1/knowledge/", headers=bearer(admin["token"])).get_json()
    assert listed["total"] == 1 and listed["items"][0]["file_count"] == 0
    assert listed["items"][0]["user"]["id"] == admin["id"]
    assert client.delete(f"/api/v1/knowledge/{made['id']}/delete", headers=bearer(admin["token"])).get_json() is True
    assert client.get(f"/api/v1/knowledge/{made['id']}", headers=bearer(admin["token"])).status_code == 404
    assert create(client, admin["token"], name="").status_code == 422


def test_private_by_default_and_shared_through_grants(client, admin, make_user):
    allow_workspace_knowledge(client, admin)
    owner, reader, writer = make_user("owner@example.com"), make_user("reader@example.com"), make_user("w@example.com")
    kb = create(client, owner["token"]).get_json()
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bearer(reader["token"])).status_code == 404
    assert client.get("/api/v1/knowledge/", headers=bearer(reader["token"])).get_json()["total"] == 0

    # the update route leaves who may use it alone (Open WebUI's), even for an admin
    grant = [{"principal_type": "user", "principal_id": reader["id"]}]
    kept = client.post(f"/api/v1/knowledge/{kb['id']}/update", headers=bearer(admin["token"]),
                       json={"name": kb["name"], "access_grants": grant}).get_json()
    assert kept["access_grants"] == []

    share(kb["id"], reader["id"])
    share(kb["id"], writer["id"], permission="write")

    seen = client.get("/api/v1/knowledge/", headers=bearer(reader["token"])).get_json()
    assert seen["total"] == 1 and seen["items"][0]["write_access"] is False
    assert client.post(f"/api/v1/knowledge/{kb['id']}/update", headers=bearer(reader["token"]),
                       json={"name": "hijack"}).status_code == 401
    assert client.post(f"/api/v1/knowledge/{kb['id']}/update", headers=bearer(writer["token"]),
                       json={"name": "renamed"}).get_json()["name"] == "renamed"
    assert client.delete(f"/api/v1/knowledge/{kb['id']}/delete", headers=bearer(reader["token"])).status_code == 401


def test_files_are_indexed_into_the_knowledge_base_and_removed_again(client, admin, make_user, embeddings):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                json={"CHUNK_SIZE": 32, "CHUNK_OVERLAP": 0})
    kb = create(client, admin["token"]).get_json()
    done = upload(client, admin["token"], b"The office opens at nine.\n\nParking is behind the building.", "a.txt")
    wait_processed(client, admin["token"], done["id"])
    added = client.post(f"/api/v1/knowledge/{kb['id']}/file/add", headers=bearer(admin["token"]),
                        json={"file_id": done["id"]}).get_json()
    assert [f["id"] for f in added["files"]] == [done["id"]]

    # a file added while still processing is indexed into the knowledge base by its embedding job
    later = upload(client, admin["token"], b"Lunch is served in the canteen.", "b.txt", query="?process=false")
    client.post(f"/api/v1/knowledge/{kb['id']}/file/add", headers=bearer(admin["token"]),
                json={"file_id": later["id"]})
    client.post(f"/api/v1/knowledge/{kb['id']}/file/update", headers=bearer(admin["token"]),
                json={"file_id": later["id"]})
    wait_processed(client, admin["token"], later["id"])

    hit = query_collection(client, admin["token"], [kb["id"]], "where is parking", k=1).get_json()
    assert hit["documents"][0] == ["Parking is behind the building."]
    lunch = query_collection(client, admin["token"], [kb["id"]], "lunch canteen", k=1).get_json()
    assert lunch["documents"][0] == ["Lunch is served in the canteen."]
    files = client.get(f"/api/v1/knowledge/{kb['id']}/files", headers=bearer(admin["token"])).get_json()
    assert files["total"] == 2

    # readers of a shared knowledge base can read its files
    reader = make_user("reader@example.com")
    share(kb["id"], reader["id"])
    assert client.get(f"/api/v1/files/{done['id']}", headers=bearer(reader["token"])).status_code == 200
    assert query_collection(client, reader["token"], [kb["id"]], "parking").status_code == 200

    removed = client.post(f"/api/v1/knowledge/{kb['id']}/file/remove?delete_file=false",
                          headers=bearer(admin["token"]), json={"file_id": done["id"]}).get_json()
    assert [f["id"] for f in removed["files"]] == [later["id"]]
    gone = query_collection(client, admin["token"], [kb["id"]], "where is parking", k=5).get_json()
    assert "Parking is behind the building." not in gone["documents"][0]
    assert client.get(f"/api/v1/files/{done['id']}", headers=bearer(admin["token"])).status_code == 200

    reset = client.post(f"/api/v1/knowledge/{kb['id']}/reset", headers=bearer(admin["token"])).get_json()
    assert reset["files"] == []
    assert query_collection(client, admin["token"], [kb["id"]], "lunch").get_json()["documents"] == [[]]


def test_cannot_add_someone_elses_file(client, admin, make_user):
    allow_workspace_knowledge(client, admin)
    user = make_user()
    kb = create(client, user["token"]).get_json()
    secret = upload(client, admin["token"], b"admin only", "s.txt", query="?process=false")
    response = client.post(f"/api/v1/knowledge/{kb['id']}/file/add", headers=bearer(user["token"]),
                           json={"file_id": secret["id"]})
    assert response.status_code == 404


def test_file_update_takes_only_a_file_the_knowledge_base_holds(client, admin, make_user):
    allow_workspace_knowledge(client, admin)
    user = make_user()
    shared_kb = create(client, admin["token"], name="Shared").get_json()
    secret = upload(client, admin["token"], b"the admin's notes", "notes.txt", query="?process=false")
    client.post(f"/api/v1/knowledge/{shared_kb['id']}/file/add", headers=bearer(admin["token"]),
                json={"file_id": secret["id"]})
    share(shared_kb["id"], user["id"])
    assert client.get(f"/api/v1/files/{secret['id']}", headers=bearer(user["token"])).status_code == 200  # readable
    mine = create(client, user["token"], name="Mine").get_json()

    pulled = client.post(f"/api/v1/knowledge/{mine['id']}/file/update", headers=bearer(user["token"]),
                         json={"file_id": secret["id"]})
    assert pulled.status_code == 404 and pulled.get_json() == {"detail": messages.NOT_FOUND}
    assert processing_jobs(secret["id"]) == []
    assert client.get(f"/api/v1/knowledge/{mine['id']}", headers=bearer(user["token"])).get_json()["files"] == []

    # a file the knowledge base holds is processed into that knowledge base
    own = upload(client, user["token"], b"my own notes", "own.txt", query="?process=false")
    client.post(f"/api/v1/knowledge/{mine['id']}/file/add", headers=bearer(user["token"]), json={"file_id": own["id"]})
    updated = client.post(f"/api/v1/knowledge/{mine['id']}/file/update", headers=bearer(user["token"]),
                          json={"file_id": own["id"]})
    assert updated.status_code == 200
    assert [job.payload["collection_name"] for job in processing_jobs(own["id"])] == [mine["id"]]


def processing_jobs(file_id: str) -> list[Job]:
    with session_scope() as session:
        return list(session.scalars(select(Job).where(Job.kind == "file.process", Job.related_id == file_id)))


def test_upload_straight_into_a_knowledge_base(client, admin, make_user, embeddings):
    kb = create(client, admin["token"]).get_json()
    file = upload(client, admin["token"], b"Fire drills happen on Tuesdays.", "drill.txt",
                  metadata=f'{{"knowledge_id": "{kb["id"]}"}}')
    assert wait_processed(client, admin["token"], file["id"])[-1]["status"] == "completed"
    listed = client.get(f"/api/v1/knowledge/{kb['id']}", headers=bearer(admin["token"])).get_json()
    assert [f["id"] for f in listed["files"]] == [file["id"]]
    hit = query_collection(client, admin["token"], [kb["id"]], "fire drills tuesdays", k=1).get_json()
    assert hit["documents"][0] == ["Fire drills happen on Tuesdays."]

    outsider = make_user()
    refused = client.post("/api/v1/files/", headers=bearer(outsider["token"]), content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"x"), "x.txt", "text/plain"),
                                "metadata": f'{{"knowledge_id": "{kb["id"]}"}}'})
    assert refused.status_code == 404
    assert client.get("/api/v1/files/", headers=bearer(outsider["token"])).get_json()["total"] == 0


def test_the_files_of_readable_knowledge_bases_are_searched_by_name(client, admin, make_user):
    allow_workspace_knowledge(client, admin)
    user = make_user()
    shared_kb = create(client, admin["token"], name="Shared").get_json()
    hidden_kb = create(client, admin["token"], name="Hidden").get_json()
    for kb, name in ((shared_kb, "travel-policy.txt"), (hidden_kb, "travel-secrets.txt")):
        held = upload(client, admin["token"], b"text", name, query="?process=false")
        client.post(f"/api/v1/knowledge/{kb['id']}/file/add", headers=bearer(admin["token"]), json={"file_id": held["id"]})
    share(shared_kb["id"], user["id"])

    found = client.get("/api/v1/knowledge/search/files?query=travel", headers=bearer(user["token"])).get_json()
    assert found["total"] == 1 and [f["filename"] for f in found["items"]] == ["travel-policy.txt"]
    assert found["items"][0]["collection"]["name"] == "Shared" and found["items"][0]["user"]["id"] == admin["id"]
    everything = client.get("/api/v1/knowledge/search/files?page=1", headers=bearer(admin["token"])).get_json()
    assert everything["total"] == 2
    assert client.get("/api/v1/knowledge/search/files?query=nothing", headers=bearer(user["token"])).get_json()[
        "total"] == 0
