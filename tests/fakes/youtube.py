"""A fake YouTube on 127.0.0.1 speaking what ``youtube-transcript-api`` reads: the watch page (with its innertube
key), the player API (``POST /youtubei/v1/player``: playability and caption tracks) and the timed text of a
track (``GET /api/timedtext``, XML). Caption URLs point at ``https://www.youtube.com`` as YouTube's do; the
client sends them here with everything else.

Videos (:data:`VIDEOS`): ``captioned01`` has a manual English track and a generated German one;
``generated01`` only a generated English one; ``nocaptions1`` none; ``gone0000001`` is unavailable;
``german00001`` has only a German track.
"""
from __future__ import annotations

from html import escape

from tests.fakes.server import FakeUpstream, Received, Reply

API_KEY = "fake-innertube-key"
LINES = {
    ("captioned01", "en"): ["The keeper climbs the tower at dusk.", "He lights the lamp &amp; watches the sea."],
    ("captioned01", "de"): ["Der W\u00e4rter steigt auf den Turm."],
    ("generated01", "en"): ["automatic captions about tides"],
    ("german00001", "de"): ["Nur auf Deutsch."],
}
VIDEOS: dict[str, list[tuple[str, bool]] | None] = {
    "captioned01": [("en", False), ("de", True)],
    "generated01": [("en", True)],
    "german00001": [("de", False)],
    "nocaptions1": [],
    "gone0000001": None,
}
"""Each video's tracks (language, generated); None: the video is unavailable."""


def transcript_text(video: str, language: str) -> str:
    """What the client makes of a track: its lines unescaped, joined by spaces."""
    return " ".join(line.replace("&amp;", "&") for line in LINES[(video, language)])


class FakeYouTube(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()

        @self.route("GET", "/watch")
        def watch(request: Received, reply: Reply) -> None:
            html = (f'<html><head><script>ytcfg.set({{"INNERTUBE_API_KEY": "{API_KEY}"}});</script></head>'
                    f'<body>{escape(request.params.get("v", ""))}</body></html>')
            reply.body(html.encode(), "text/html; charset=utf-8")

        @self.route("POST", "/youtubei/v1/player")
        def player(request: Received, reply: Reply) -> None:
            if request.params.get("key") != API_KEY:
                return self.error(reply, 403, "bad key")
            video = (request.body or {}).get("videoId")
            tracks = VIDEOS.get(video)
            if tracks is None:
                return reply.json({"playabilityStatus": {"status": "ERROR", "reason": "This video is unavailable"}})
            answer: dict = {"playabilityStatus": {"status": "OK"}}
            if tracks:
                answer["captions"] = {"playerCaptionsTracklistRenderer": {"captionTracks": [
                    {"baseUrl": f"https://www.youtube.com/api/timedtext?v={video}&lang={lang}&fmt=srv3",
                     "name": {"runs": [{"text": lang}]}, "languageCode": lang, "isTranslatable": False,
                     **({"kind": "asr"} if generated else {})}
                    for lang, generated in tracks]}}
            reply.json(answer)

        @self.route("GET", "/api/timedtext")
        def timedtext(request: Received, reply: Reply) -> None:
            lines = LINES[(request.params["v"], request.params["lang"])]
            texts = "".join(f'<text start="{i * 2}.0" dur="2.0">{line}</text>' for i, line in enumerate(lines))
            reply.body(f'<?xml version="1.0" encoding="utf-8" ?><transcript>{texts}</transcript>'.encode(),
                       "text/xml; charset=utf-8")

    def settings(self) -> dict[str, str]:
        """The web settings that send the YouTube loader here."""
        return {"YOUTUBE_BASE_URL": self.url}
