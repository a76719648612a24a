"""A fake ElevenLabs on loopback speaking its real wire format (``xi-api-key``, ``/v1/voices``, ``/v1/models``,
``/v1/text-to-speech/{voice_id}``, its ``{"detail": {"status", "message"}}`` errors). OpenAI's audio API is part of
:class:`tests.fakes.openai.FakeOpenAI`.

The fakes answer speech with :func:`mp3_for`: bytes that start as an MP3 frame and say what was asked, so a test
can tell which request made which answer; the fake OpenAI transcribes a recording whose bytes start with
``SAY:`` into the words that follow.
"""
from __future__ import annotations

from tests.fakes.server import FakeUpstream, Received, Reply

VOICES = [{"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade", "labels": {}},
          {"voice_id": "AZnzlk1XvdvUeBnXmlld", "name": "Domi", "category": "premade", "labels": {}}]
MODELS = [{"model_id": "eleven_multilingual_v2", "name": "Eleven Multilingual v2", "can_do_text_to_speech": True},
          {"model_id": "eleven_flash_v2_5", "name": "Eleven Flash v2.5", "can_do_text_to_speech": True}]


def mp3_for(*parts: str) -> bytes:
    """Fake MP3 bytes naming the request (an MPEG frame header, then the words)."""
    return b"\xff\xf3\x84\xc4" + "|".join(parts).encode()


class FakeElevenLabs(FakeUpstream):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

        @self.route("GET", "/v1/voices")
        def voices(_request: Received, reply: Reply) -> None:
            reply.json({"voices": VOICES})

        @self.route("GET", "/v1/models")
        def models(_request: Received, reply: Reply) -> None:
            reply.json(MODELS)

        @self.route("POST", r"/v1/text-to-speech/[\w-]+")
        def speak(request: Received, reply: Reply) -> None:
            voice_id = request.path.rsplit("/", 1)[-1]
            if voice_id not in {voice["voice_id"] for voice in VOICES}:
                reply.json({"detail": {"status": "voice_not_found", "message": "A voice with the voice_id "
                                       f"{voice_id} was not found."}}, 404)
                return
            body = request.body if isinstance(request.body, dict) else {}
            if not body.get("text"):
                reply.json({"detail": [{"type": "missing", "loc": ["body", "text"], "msg": "Field required",
                                        "input": body}]}, 422)
                return
            reply.body(mp3_for("elevenlabs", voice_id, body.get("model_id") or "", body["text"]), "audio/mpeg")

    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"detail": {"status": "internal_error", "message": message}}, status)

    def _dispatch(self, handler) -> None:
        if handler.headers.get("xi-api-key") != self.api_key:
            self.refused(handler).json({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, 401)
            return
        super()._dispatch(handler)
