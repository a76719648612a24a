"""``POST /api/v1/retrieval/process/youtube``: a job reads the video's transcript from a fake YouTube (the
``youtube-transcript-api`` package, its requests sent to ``YOUTUBE_BASE_URL``), indexes it and a query finds it;
a video without a transcript is a clear 400. The worker may not fetch loopback pages: YouTube's address is the
admin's setting, not the user's URL."""
from __future__ import annotations

import pytest

from tests.fakes.fixtures import fake_youtube, youtube_server  # noqa: F401
from tests.fakes.youtube import transcript_text
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker  # noqa: F401


@pytest.fixture
def youtube(client, admin, embeddings, fake_youtube):
    def configure(**web) -> None:
        updated = client.post("/api/v1/retrieval/config/update", headers=bearer(admin["token"]), json={"web": {
            **fake_youtube.settings(), "YOUTUBE_LOADER_LANGUAGE": ["en"], **web}})
        assert updated.status_code == 200, updated.get_json()

    configure()
    return configure


def _load(client, admin, url: str, route: str = "youtube"):
    return client.post(f"/api/v1/retrieval/process/{route}", headers=bearer(admin["token"]), json={"url": url})


def test_a_transcript_is_loaded_indexed_and_found(client, admin, youtube, fake_youtube):
    url = "https://www.youtube.com/watch?v=captioned01&t=42"
    loaded = _load(client, admin, url)
    body = loaded.get_json()
    assert loaded.status_code == 200, body
    assert body["content"] == transcript_text("captioned01", "en") and "&" in body["content"]
    assert body["filename"] == url and body["file"]["meta"] == {"name": url, "source": url}
    assert fake_youtube.received("/watch")[0].params["v"] == "captioned01"
    assert fake_youtube.received("/youtubei/v1/player")[0].body["videoId"] == "captioned01"
    assert fake_youtube.received("/api/timedtext")[0].params["lang"] == "en"
    found = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]), json={
        "collection_name": body["collection_name"], "query": "who lights the lamp", "k": 1}).get_json()
    assert "lights the lamp" in found["documents"][0][0]


def test_process_url_reads_a_video_as_its_transcript(client, admin, youtube):
    url = "https://youtu.be/captioned01"
    loaded = _load(client, admin, url, route="url")
    body = loaded.get_json()
    assert loaded.status_code == 200, body
    assert (body["type"], body["name"], body["url"]) == ("youtube", url, url) and "file" not in body
    assert body["content"] == transcript_text("captioned01", "en")
    found = client.post("/api/v1/retrieval/query/doc", headers=bearer(admin["token"]), json={
        "collection_name": body["collection_name"], "query": "who lights the lamp", "k": 1}).get_json()
    assert "lights the lamp" in found["documents"][0][0]


@pytest.mark.parametrize(("url", "languages", "video", "language"), [
    ("https://youtu.be/generated01", ["en"], "generated01", "en"),
    ("https://www.youtube.com/embed/captioned01", ["de", "en"], "captioned01", "de"),
    ("https://m.youtube.com/watch?v=german00001", ["fr", "de"], "german00001", "de"),
])
def test_the_first_wanted_language_with_a_track_is_taken(client, admin, youtube, url, languages, video, language):
    youtube(YOUTUBE_LOADER_LANGUAGE=languages)
    loaded = _load(client, admin, url)
    assert loaded.status_code == 200, loaded.get_json()
    assert loaded.get_json()["content"] == transcript_text(video, language)


@pytest.mark.parametrize(("video", "detail"), [
    ("nocaptions1", "Transcripts are disabled for the YouTube video nocaptions1."),
    ("gone0000001", "The YouTube video gone0000001 is unavailable."),
    ("german00001", "No transcript found for the YouTube video german00001 in these languages: en."),
])
def test_a_video_without_a_transcript_is_a_clear_400(client, admin, youtube, video, detail):
    refused = _load(client, admin, f"https://www.youtube.com/watch?v={video}")
    assert refused.status_code == 400 and refused.get_json() == {"detail": detail}


def test_process_web_reads_a_youtube_url_as_its_transcript(client, admin, youtube, fake_youtube):
    loaded = _load(client, admin, "https://youtu.be/captioned01", route="web")
    assert loaded.status_code == 200 and loaded.get_json()["content"] == transcript_text("captioned01", "en")


def test_youtube_failing_is_a_clear_502(client, admin, youtube, fake_youtube):
    youtube(YOUTUBE_BASE_URL=f"{fake_youtube.url}/elsewhere")  # every page there is a 404
    failed = _load(client, admin, "https://www.youtube.com/watch?v=captioned01")
    assert failed.status_code == 502, failed.get_json()
    assert failed.get_json()["detail"].startswith("YouTube failed to answer for captioned01: 404")
