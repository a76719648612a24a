"""The speech engines behind one interface: :func:`synthesize`, :func:`transcribe`, :func:`models` and
:func:`voices` take a :class:`SpeechEngine` (what the admin configured) and answer in the same shapes whatever
the engine. Adding an engine is a function and a line in each table here.

Text to speech: ``openai`` (any server with OpenAI's ``/audio/speech``), ``elevenlabs``, and ``transformers`` (Open
WebUI's name for its local engine; here Piper, ``local_speech``). Speech to text: ``""`` (the local engine,
faster-whisper) and ``openai`` (``/audio/transcriptions``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import UpstreamError
from shared.providers import local_speech
from shared.providers.openai import OpenAIClient
from shared.providers.upstream import Upstream, refusals_as_bad_request

OPENAI_VOICES = {"alloy": "alloy", "echo": "echo", "fable": "fable", "onyx": "onyx", "nova": "nova", "shimmer": "shimmer"}
OPENAI_MODELS = [{"id": "tts-1"}, {"id": "tts-1-hd"}]
"""What Open WebUI offers for api.openai.com, which lists neither."""


@dataclass(frozen=True)
class SpeechEngine:
    name: str
    url: str = ""
    key: str = ""
    model: str = ""
    voice: str = ""
    params: dict = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True)
class Audio:
    data: bytes
    content_type: str


def _elevenlabs_error(body: Any) -> str | None:
    """``{"detail": {"status", "message"}}``, or FastAPI's validation list."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return detail.get("message") or detail.get("status")
    if isinstance(detail, list):
        return "; ".join(str(item.get("msg")) for item in detail if isinstance(item, dict))
    return detail if isinstance(detail, str) else None


def _elevenlabs(engine: SpeechEngine) -> Upstream:
    return Upstream("ElevenLabs", engine.url or "https://api.elevenlabs.io", {"xi-api-key": engine.key},
                    engine.timeout, _elevenlabs_error)


def _openai(engine: SpeechEngine) -> OpenAIClient:
    return OpenAIClient(engine.url, engine.key or None, engine.timeout)


def _content_type(response: Any, default: str) -> str:
    return response.headers.get("Content-Type", default).split(";")[0].strip() or default


# -- text to speech ----------------------------------------------------------------------------------
def _speak_openai(engine: SpeechEngine, text: str, voice: str) -> Audio:
    # MP3 always, as Open WebUI hands it to the browser (it transcodes any other format).
    body = {"input": text, "model": engine.model, "voice": voice or engine.voice, **engine.params,
            "response_format": "mp3"}
    response = _openai(engine).http.send("POST", "/audio/speech", body)
    return Audio(response.data, _content_type(response, "audio/mpeg"))


def _speak_elevenlabs(engine: SpeechEngine, text: str, voice: str) -> Audio:
    voice_id = (voice or engine.voice).strip()
    known = _voices_elevenlabs(engine)
    if not voice_id or (known and voice_id not in known):
        raise UpstreamError("Invalid voice id", 400)
    body = {"text": text, "model_id": engine.model, "voice_settings": {"stability": 0.5, "similarity_boost": 0.5}}
    response = _elevenlabs(engine).send("POST", f"/v1/text-to-speech/{voice_id}", body)
    return Audio(response.data, _content_type(response, "audio/mpeg"))


def _speak_local(_engine: SpeechEngine, text: str, _voice: str) -> Audio:
    return Audio(local_speech.synthesize(text), "audio/mpeg")


# -- lists -------------------------------------------------------------------------------------------
def _is_openai_itself(engine: SpeechEngine) -> bool:
    return engine.url.startswith("https://api.openai.com")


def _models_openai(engine: SpeechEngine) -> list[dict]:
    """A compatible server's ``/audio/models`` (else its ``/models``); OpenAI's own two otherwise."""
    if _is_openai_itself(engine):
        return OPENAI_MODELS
    client = _openai(engine)
    try:
        return (client.call("GET", "/audio/models") or {}).get("models", [])
    except UpstreamError:
        try:
            return client.models()
        except UpstreamError:
            return OPENAI_MODELS


def _voices_openai(engine: SpeechEngine) -> dict[str, str]:
    if _is_openai_itself(engine):
        return dict(OPENAI_VOICES)
    try:
        listed = (_openai(engine).call("GET", "/audio/voices") or {}).get("voices", [])
        return {voice["id"]: voice["name"] for voice in listed}
    except (UpstreamError, KeyError, TypeError):
        return dict(OPENAI_VOICES)


def _models_elevenlabs(engine: SpeechEngine) -> list[dict]:
    models = _elevenlabs(engine).json("GET", "/v1/models") or []
    return [{"name": model["name"], "id": model["model_id"]} for model in models]


def _voices_elevenlabs(engine: SpeechEngine) -> dict[str, str]:
    voices = (_elevenlabs(engine).json("GET", "/v1/voices") or {}).get("voices", [])
    return {voice["voice_id"]: voice["name"] for voice in voices}


Speaker = Callable[[SpeechEngine, str, str], Audio]
SPEAKERS: dict[str, Speaker] = {"openai": _speak_openai, "elevenlabs": _speak_elevenlabs,
                                "transformers": _speak_local}
MODEL_LISTS: dict[str, Callable[[SpeechEngine], list[dict]]] = {
    "openai": _models_openai, "elevenlabs": _models_elevenlabs,
    "transformers": lambda _engine: [{"id": local_speech.VOICE}]}
VOICE_LISTS: dict[str, Callable[[SpeechEngine], dict[str, str]]] = {
    "openai": _voices_openai, "elevenlabs": _voices_elevenlabs,
    "transformers": lambda _engine: {local_speech.VOICE: "Joe (US English, Piper)"}}


def _named(table: dict[str, Any], engine: SpeechEngine, what: str) -> Any:
    if engine.name not in table:
        raise UpstreamError(f"Unsupported {what} engine: {engine.name!r} (supported here: "
                            f"{', '.join(repr(name) for name in table)})", 400)
    return table[engine.name]


LABELS = {"openai": "OpenAI", "elevenlabs": "ElevenLabs", "transformers": "Piper", "": "Whisper"}


def synthesize(engine: SpeechEngine, text: str, voice: str = "") -> Audio:
    speak = _named(SPEAKERS, engine, "TTS")
    return refusals_as_bad_request(LABELS[engine.name], lambda: speak(engine, text, voice))


def models(engine: SpeechEngine) -> list[dict]:
    return MODEL_LISTS[engine.name](engine) if engine.name in MODEL_LISTS else []


def voices(engine: SpeechEngine) -> dict[str, str]:
    """``{id: name}``; an engine that cannot be asked (no key yet) has none."""
    try:
        return VOICE_LISTS[engine.name](engine) if engine.name in VOICE_LISTS else {}
    except UpstreamError:
        return {}


# -- speech to text ----------------------------------------------------------------------------------
def _transcribe_local(_engine: SpeechEngine, data: bytes, _filename: str, _content_type: str,
                      language: str | None) -> str:
    return local_speech.transcribe(data, language)


def _transcribe_openai(engine: SpeechEngine, data: bytes, filename: str, content_type: str,
                       language: str | None) -> str:
    """OpenAI's transcription (multipart); a refused ``language`` is tried again without it, as Open WebUI does."""
    http = _openai(engine).http
    fields = {"model": engine.model or "whisper-1"}
    files = [("file", filename, data, content_type)]
    try:
        answer = http.multipart("POST", "/audio/transcriptions", {**fields, **({"language": language} if language
                                                                              else {})}, files)
    except UpstreamError as exc:
        if not language or exc.transient:
            raise
        answer = http.multipart("POST", "/audio/transcriptions", fields, files)
    return (answer or {}).get("text", "") if isinstance(answer, dict) else ""


TRANSCRIBERS: dict[str, Callable[[SpeechEngine, bytes, str, str, str | None], str]] = {
    "": _transcribe_local, "openai": _transcribe_openai}


def transcribe(engine: SpeechEngine, data: bytes, filename: str, content_type: str, language: str | None = None) -> str:
    listen = _named(TRANSCRIBERS, engine, "STT")
    return refusals_as_bad_request(LABELS[engine.name], lambda: listen(engine, data, filename, content_type, language))
