"""``/api/v1/files``: upload, list, read, download headers, limits, ownership and deletion (no worker)."""
from __future__ import annotations

import io

from shared.storage import get_storage
from tests.helpers import bearer


def upload(client, token: str, data: bytes = b"hello world", name: str = "notes.txt",
           content_type: str = "text/plain", query: str = "?process=false", **form):
    return client.post(f"/api/v1/files/{query}", headers=bearer(token), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name, content_type), **form})


def test_upload_stores_the_bytes_and_answers_the_file_model(client, admin):
    response = upload(client, admin["token"], b"first line\nsecond line", metadata='{"source": "test"}')
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["filename"] == "notes.txt" and body["user_id"] == admin["id"]
    assert body["meta"]["size"] == 22 and body["meta"]["content_type"] == "text/plain"
    assert body["meta"]["data"] == {"source": "test"}
    assert len(body["hash"]) == 64 and body["data"] == {}
    with get_storage().open(body["path"]) as stored:
        assert stored.read() == b"first line\nsecond line"


def test_upload_with_processing_queues_a_job_and_reports_pending(client, admin):
    body = upload(client, admin["token"], query="").get_json()
    assert body["status"] is True and body["data"]["status"] == "pending" and body["data"]["job_id"]
    job = client.get(f"/api/v1/jobs/{body['data']['job_id']}", headers=bearer(admin["token"])).get_json()
    assert job["kind"] == "file.process" and job["queue"] == "files"
    status = client.get(f"/api/v1/files/{body['id']}/process/status", headers=bearer(admin["token"]))
    assert status.get_json() == {"status": "pending"}


def test_names_are_sanitised(client, admin):
    body = upload(client, admin["token"], name="../../etc/pass\x07wd.txt").get_json()
    assert body["filename"] == "passwd.txt"
    windows = upload(client, admin["token"], name="..\\..\\boot.ini").get_json()
    assert windows["filename"] == "boot.ini"
    assert "/" not in body["path"] and ".." not in body["path"]
    hidden = upload(client, admin["token"], name="..").get_json()
    assert hidden["filename"] == "file"


def test_a_name_longer_than_the_filesystem_allows_keeps_the_upload_and_its_name(client, admin):
    name = "日本語の長い名前" * 24 + ".txt"  # 196 characters, 580 bytes: more than a file name may hold
    body = upload(client, admin["token"], name=name, data=b"kept").get_json()
    assert body["filename"] == name and body["meta"]["name"] == name
    assert len(body["path"].encode()) <= 200 and body["path"].endswith(".txt")
    content = client.get(f"/api/v1/files/{body['id']}/content", headers=bearer(admin["token"]))
    assert content.status_code == 200 and content.data == b"kept"


def test_missing_file_field_is_a_clear_400(client, admin):
    response = client.post("/api/v1/files/", headers=bearer(admin["token"]), content_type="multipart/form-data",
                           data={"other": "x"})
    assert response.status_code == 400 and "file" in response.get_json()["detail"]
    bad_meta = upload(client, admin["token"], metadata="{not json")
    assert bad_meta.status_code == 400 and bad_meta.get_json() == {"detail": "Invalid metadata format"}


def test_size_limit_answers_413_and_keeps_nothing(client, admin):
    update = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]),
                         json={"FILE_MAX_SIZE": 1})
    assert update.status_code == 200 and update.get_json()["FILE_MAX_SIZE"] == 1
    response = upload(client, admin["token"], b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413 and "1 MB" in response.get_json()["detail"]
    listed = client.get("/api/v1/files/", headers=bearer(admin["token"])).get_json()
    assert listed["total"] == 0
    assert upload(client, admin["token"], b"x" * 1024).status_code == 200


def test_declared_oversize_is_refused_before_reading_the_body(client, admin):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]), json={"FILE_MAX_SIZE": 1})
    response = client.post("/api/v1/files/", headers={**bearer(admin["token"]),
                                                       "Content-Type": "multipart/form-data; boundary=x"},
                           input_stream=io.BytesIO(b""),
                           environ_overrides={"CONTENT_LENGTH": str(50 * 1024 * 1024)})
    assert response.status_code == 413


def test_list_is_own_files_and_admin_sees_all(client, admin, make_user):
    user = make_user()
    upload(client, admin["token"], name="a.txt")
    upload(client, user["token"], name="b.txt")
    mine = client.get("/api/v1/files/", headers=bearer(user["token"])).get_json()
    assert [f["filename"] for f in mine["items"]] == ["b.txt"] and mine["total"] == 1
    everyone = client.get("/api/v1/files/", headers=bearer(admin["token"])).get_json()
    assert sorted(f["filename"] for f in everyone["items"]) == ["a.txt", "b.txt"]


def test_someone_elses_file_is_404_everywhere(client, admin, make_user):
    owner, other = make_user("owner@example.com"), make_user("other@example.com")
    file_id = upload(client, owner["token"]).get_json()["id"]
    for method, path in (("get", ""), ("get", "/content"), ("get", "/data/content"), ("get", "/process/status"),
                         ("delete", "")):
        response = getattr(client, method)(f"/api/v1/files/{file_id}{path}", headers=bearer(other["token"]))
        assert response.status_code == 404, path
    update = client.post(f"/api/v1/files/{file_id}/data/content/update", headers=bearer(other["token"]),
                         json={"content": "x"})
    assert update.status_code == 404
    assert client.get(f"/api/v1/files/{file_id}", headers=bearer(admin["token"])).status_code == 200


def test_content_headers_never_serve_html_inline(client, admin):
    token = admin["token"]
    text_id = upload(client, token, b"plain", "a.txt", "text/plain").get_json()["id"]
    html_id = upload(client, token, b"<script>alert(1)</script>", "x.html", "text/html").get_json()["id"]
    pdf_id = upload(client, token, b"%PDF-1.4", "doc.pdf", "application/pdf").get_json()["id"]

    text = client.get(f"/api/v1/files/{text_id}/content", headers=bearer(token))
    assert text.data == b"plain" and text.headers["X-Content-Type-Options"] == "nosniff"
    assert text.headers["Content-Disposition"].startswith("inline")

    html = client.get(f"/api/v1/files/{html_id}/content", headers=bearer(token))
    assert html.headers["Content-Disposition"].startswith("attachment")
    assert "html" not in html.headers["Content-Type"] and html.headers["X-Content-Type-Options"] == "nosniff"

    pdf = client.get(f"/api/v1/files/{pdf_id}/content", headers=bearer(token))
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.headers["Content-Disposition"].startswith("inline")
    forced = client.get(f"/api/v1/files/{pdf_id}/content?attachment=true", headers=bearer(token))
    assert forced.headers["Content-Disposition"].startswith("attachment")


def test_delete_removes_row_and_bytes(client, admin):
    body = upload(client, admin["token"]).get_json()
    response = client.delete(f"/api/v1/files/{body['id']}", headers=bearer(admin["token"]))
    assert response.status_code == 200 and response.get_json() == {"message": "File deleted successfully"}
    assert client.get(f"/api/v1/files/{body['id']}", headers=bearer(admin["token"])).status_code == 404
    assert not get_storage().exists(body["path"])


def test_delete_all_is_admin_only(client, admin, make_user):
    user = make_user()
    upload(client, user["token"])
    assert client.delete("/api/v1/files/all", headers=bearer(user["token"])).status_code == 401
    assert client.delete("/api/v1/files/all", headers=bearer(admin["token"])).status_code == 200
    assert client.get("/api/v1/files/", headers=bearer(admin["token"])).get_json()["total"] == 0


def test_content_update_rejects_empty_text(client, admin):
    file_id = upload(client, admin["token"]).get_json()["id"]
    response = client.post(f"/api/v1/files/{file_id}/data/content/update", headers=bearer(admin["token"]),
                           json={"content": "   "})
    assert response.status_code == 400 and "empty" in response.get_json()["detail"]


def test_the_upload_limit_replaces_the_general_body_limit(client, admin):
    client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]), json={"FILE_MAX_SIZE": 20})
    big = upload(client, admin["token"], b"y" * (17 * 1024 * 1024), "big.txt")  # over MAX_BODY_BYTES (16 MB)
    assert big.status_code == 200 and big.get_json()["meta"]["size"] == 17 * 1024 * 1024


def test_search_and_count_by_glob(client, admin, make_user):
    user = make_user()
    for name in ("report_2024.txt", "report-2024.txt", "notes.md"):
        upload(client, user["token"], name=name)
    upload(client, admin["token"], name="admin report_2024.txt")

    def names(path: str, token: str) -> list[str]:
        """The names found, sorted (files made in the same second have no order between them)."""
        response = client.get(f"/api/v1/files/{path}", headers=bearer(token))
        assert response.status_code == 200, response.get_json()
        return sorted(f["filename"] for f in response.get_json())

    assert names("user/search", user["token"]) == ["notes.md", "report-2024.txt", "report_2024.txt"]
    assert names("user/search?filename=*_2024.*", user["token"]) == ["report_2024.txt"]  # _ is no wildcard
    assert names("user/search?filename=REPORT?2024.TXT", user["token"]) == ["report-2024.txt", "report_2024.txt"]
    assert names("user/search?filename=*.pdf", user["token"]) == []
    assert names("search?filename=*report_2024*", admin["token"]) == ["admin report_2024.txt", "report_2024.txt"]
    assert names("user/search?filename=*report_2024*", admin["token"]) == ["admin report_2024.txt"]
    pages = [names(f"user/search?skip={skip}&limit=1", user["token"]) for skip in range(4)]
    assert sorted(sum(pages, [])) == names("user/search", user["token"]) and pages[3] == []
    missing = client.get("/api/v1/files/search?filename=*.pdf", headers=bearer(user["token"]))
    assert missing.status_code == 404 and missing.get_json() == {"detail": "No files found matching the pattern."}
    assert client.get("/api/v1/files/search", headers=bearer(user["token"])).status_code == 422
    assert client.get("/api/v1/files/user/search?limit=0", headers=bearer(user["token"])).status_code == 422
    counts = [client.get(f"/api/v1/files/{path}", headers=bearer(token)).get_json()
              for path, token in (("count", user["token"]), ("user/count", user["token"]),
                                  ("count", admin["token"]), ("user/count", admin["token"]))]
    assert counts == [3, 3, 4, 1]


def test_rename_and_named_download(client, admin, make_user):
    owner, other = make_user(), make_user("other@example.com")
    made = upload(client, owner["token"], b"minutes", name="draft.txt").get_json()
    renamed = client.post(f"/api/v1/files/{made['id']}/rename", headers=bearer(owner["token"]),
                          json={"filename": "Board minutes.txt"})
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["filename"] == "Board minutes.txt" and renamed.get_json()["meta"]["name"] == "Board minutes.txt"
    assert renamed.get_json()["path"] == made["path"]  # the bytes stay where they are
    for body in ({"filename": ""}, {}):
        assert client.post(f"/api/v1/files/{made['id']}/rename", headers=bearer(owner["token"]),
                           json=body).status_code == 422
    assert client.post(f"/api/v1/files/{made['id']}/rename", headers=bearer(other["token"]),
                       json={"filename": "mine.txt"}).status_code == 404

    download = client.get(f"/api/v1/files/{made['id']}/content/whatever.txt", headers=bearer(owner["token"]))
    assert download.status_code == 200 and download.data == b"minutes"
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''Board%20minutes.txt"
    assert client.get(f"/api/v1/files/{made['id']}/content/x.txt", headers=bearer(other["token"])).status_code == 404


def test_only_an_admins_html_file_is_served_as_a_sandboxed_page(client, admin, make_user):
    page = b"<html><body><h1>Handbook</h1><script>alert(1)</script></body></html>"
    users = upload(client, make_user()["token"], page, name="page.html", content_type="text/html").get_json()
    admins = upload(client, admin["token"], page, name="page.html", content_type="text/html").get_json()
    shown = client.get(f"/api/v1/files/{admins['id']}/content/html", headers=bearer(admin["token"]))
    assert shown.status_code == 200 and shown.data == page and shown.mimetype == "text/html"
    assert shown.headers["Content-Security-Policy"].startswith("sandbox;")  # its script never runs
    assert client.get(f"/api/v1/files/{users['id']}/content/html", headers=bearer(admin["token"])).status_code == 404
    plain = client.get(f"/api/v1/files/{admins['id']}/content", headers=bearer(admin["token"]))
    assert plain.mimetype == "application/octet-stream"  # the ordinary download never serves HTML
