"""Speech: Open WebUI's ``audio.tts.*``, ``audio.stt.*`` and ``audio.realtime.*`` settings, who may use them, the
checks on an upload to transcribe, and the jobs that speak and transcribe (``shared.providers.speech``).

Spoken answers are cached in the file storage under a hash of the request, the engine and its model, as Open
WebUI caches them on disk; uploads to transcribe are kept there for the job to read.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import uuid
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from shared import messages
from shared.config import env
from shared.crypto import encrypt
from shared.errors import BadRequest, Forbidden, NotFound
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers.speech import SpeechEngine
from shared.services import app_config, permissions
from shared.storage import TooLarge, get_storage

SECTIONS: dict[str, dict[str, str]] = {
    "tts": {
        "OPENAI_API_BASE_URL": "audio.tts.openai.api_base_url", "OPENAI_API_KEY": "audio.tts.openai.api_key",
        "OPENAI_PARAMS": "audio.tts.openai.params", "API_KEY": "audio.tts.api_key", "ENGINE": "audio.tts.engine",
        "MODEL": "audio.tts.model", "VOICE": "audio.tts.voice",
        "REALTIME_TTS_PROMPT_TEMPLATE": "audio.tts.realtime.prompt_template", "SPLIT_ON": "audio.tts.split_on",
        "AZURE_SPEECH_REGION": "audio.tts.azure.speech_region",
        "AZURE_SPEECH_BASE_URL": "audio.tts.azure.speech_base_url",
        "AZURE_SPEECH_OUTPUT_FORMAT": "audio.tts.azure.speech_output_format",
        "MISTRAL_API_KEY": "audio.tts.mistral.api_key", "MISTRAL_API_BASE_URL": "audio.tts.mistral.api_base_url",
    },
    "stt": {
        "OPENAI_API_BASE_URL": "audio.stt.openai.api_base_url", "OPENAI_API_KEY": "audio.stt.openai.api_key",
        "OPENAI_API_REQUEST_FORMAT": "audio.stt.openai.api_request_format", "ENGINE": "audio.stt.engine",
        "MODEL": "audio.stt.model", "SUPPORTED_CONTENT_TYPES": "audio.stt.supported_content_types",
        "ALLOWED_EXTENSIONS": "audio.stt.allowed_extensions", "WHISPER_MODEL": "audio.stt.whisper_model",
        "DEEPGRAM_API_KEY": "audio.stt.deepgram.api_key", "AZURE_API_KEY": "audio.stt.azure.api_key",
        "AZURE_REGION": "audio.stt.azure.region", "AZURE_LOCALES": "audio.stt.azure.locales",
        "AZURE_BASE_URL": "audio.stt.azure.base_url", "AZURE_MAX_SPEAKERS": "audio.stt.azure.max_speakers",
        "MISTRAL_API_KEY": "audio.stt.mistral.api_key", "MISTRAL_API_BASE_URL": "audio.stt.mistral.api_base_url",
        "MISTRAL_USE_CHAT_COMPLETIONS": "audio.stt.mistral.use_chat_completions",
    },
    "realtime": {
        "ENABLED": "audio.realtime.enabled", "PROVIDER": "audio.realtime.provider",
        "AUTH_TYPE": "audio.realtime.auth_type", "OPENAI_API_BASE_URL": "audio.realtime.openai.api_base_url",
        "OPENAI_API_KEY": "audio.realtime.openai.api_key", "MODEL": "audio.realtime.model",
        "VOICE": "audio.realtime.voice", "TRANSCRIPTION_MODEL": "audio.realtime.transcription_model",
        "INPUT_PARAMS": "audio.realtime.input_params", "REALTIME_CALL_PROMPT_TEMPLATE": "audio.realtime.prompt_template",
    },
}
"""Open WebUI's fields per section and the config keys they are stored under."""
SECRETS = frozenset({"OPENAI_API_KEY", "API_KEY", "MISTRAL_API_KEY", "DEEPGRAM_API_KEY", "AZURE_API_KEY"})
"""Stored encrypted, in every section; the admin's config reads them back in clear, as Open WebUI's does."""
ALLOWED_EXTENSIONS = ["mp3", "wav", "m4a", "webm", "ogg", "flac", "mp4", "mpga", "mpeg"]
_DEFAULTS: dict[str, Any] = {
    "audio.tts.engine": lambda: env("AUDIO_TTS_ENGINE"), "audio.tts.model": lambda: env("AUDIO_TTS_MODEL"),
    "audio.tts.voice": lambda: env("AUDIO_TTS_VOICE"), "audio.tts.api_key": lambda: env("AUDIO_TTS_API_KEY"),
    "audio.tts.openai.api_base_url": lambda: env("AUDIO_TTS_OPENAI_API_BASE_URL"),
    "audio.tts.openai.api_key": lambda: env("AUDIO_TTS_OPENAI_API_KEY"),
    "audio.tts.openai.params": lambda: {}, "audio.tts.split_on": lambda: "punctuation",
    "audio.tts.mistral.api_base_url": lambda: "https://api.mistral.ai/v1",
    "audio.stt.engine": lambda: env("AUDIO_STT_ENGINE"), "audio.stt.model": lambda: env("AUDIO_STT_MODEL"),
    "audio.stt.openai.api_base_url": lambda: env("AUDIO_STT_OPENAI_API_BASE_URL"),
    "audio.stt.openai.api_key": lambda: env("AUDIO_STT_OPENAI_API_KEY"),
    "audio.stt.openai.api_request_format": lambda: "multipart", "audio.stt.supported_content_types": lambda: [],
    "audio.stt.allowed_extensions": lambda: list(ALLOWED_EXTENSIONS), "audio.stt.whisper_model": lambda: "tiny.en",
    "audio.stt.mistral.api_base_url": lambda: "https://api.mistral.ai/v1",
    "audio.stt.mistral.use_chat_completions": lambda: False,
    "audio.realtime.enabled": lambda: False, "audio.realtime.provider": lambda: "openai",
    "audio.realtime.auth_type": lambda: "api_key", "audio.realtime.openai.api_base_url": lambda: "https://api.openai.com/v1",
    "audio.realtime.model": lambda: "gpt-realtime-2.1-mini", "audio.realtime.voice": lambda: "marin",
    "audio.realtime.transcription_model": lambda: "gpt-transcribe", "audio.realtime.input_params": lambda: None,
    "audio.realtime.prompt_template": lambda: None, "audio.tts.realtime.prompt_template": lambda: None,
}


def _default(key: str, secret: bool) -> Any:
    value = _DEFAULTS[key]() if key in _DEFAULTS else ""
    return encrypt(value) if secret and value else value


CONFIG_DEFAULTS = {key: (lambda _s, key=key, secret=field in SECRETS: _default(key, secret))
                   for section in SECTIONS.values() for field, key in section.items()}
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""The largest recording to transcribe (OpenAI's limit)."""
DEFAULT_CONTENT_TYPES = ["audio/*", "video/webm"]
SPEECH_KEY = "speech_{name}.mp3"
TRANSCRIPTION_KEY = "transcription_{name}"


def _section(session: Session, name: str) -> dict[str, Any]:
    return app_config.get_fields(session, SECTIONS[name], SECRETS)


def read_config(session: Session) -> dict[str, dict[str, Any]]:
    """``{realtime, tts, stt}`` under Open WebUI's field names, secrets in clear."""
    return {name: _section(session, name) for name in ("realtime", "tts", "stt")}


def update_config(session: Session, form: dict[str, dict]) -> dict[str, dict[str, Any]]:
    """Store the fields each section of the form names; the settings after the change."""
    for name, fields in form.items():
        if name in SECTIONS and isinstance(fields, dict):
            if isinstance(fields.get("SUPPORTED_CONTENT_TYPES"), list):  # the web app sends [""] for none
                fields = {**fields, "SUPPORTED_CONTENT_TYPES": [t for t in fields["SUPPORTED_CONTENT_TYPES"] if t]}
            app_config.set_fields(session, SECTIONS[name], fields, SECRETS)
    return read_config(session)


def tts_engine(session: Session, timeout: float | None = None) -> SpeechEngine:
    tts = _section(session, "tts")
    name = tts["ENGINE"] or ""
    if name == "elevenlabs":
        return SpeechEngine(name, env("ELEVENLABS_API_BASE_URL"), tts["API_KEY"], tts["MODEL"], tts["VOICE"],
                            timeout=timeout)
    return SpeechEngine(name, (tts["OPENAI_API_BASE_URL"] or "").rstrip("/"), tts["OPENAI_API_KEY"], tts["MODEL"],
                        tts["VOICE"], tts["OPENAI_PARAMS"] if isinstance(tts["OPENAI_PARAMS"], dict) else {},
                        timeout=timeout)


def stt_engine(session: Session, timeout: float | None = None) -> SpeechEngine:
    stt = _section(session, "stt")
    return SpeechEngine(stt["ENGINE"] or "", (stt["OPENAI_API_BASE_URL"] or "").rstrip("/"), stt["OPENAI_API_KEY"],
                        stt["MODEL"], timeout=timeout)


def _check(session: Session, user: User, permission: str) -> None:
    permissions.require(session, user, permission, Forbidden)


def speech_request(session: Session, user: User, body: bytes) -> tuple[dict, str]:
    """The request to speak (``{input, voice?}``) and its cache key; 404 while the browser speaks (engine
    ``""``), as in Open WebUI."""
    engine = app_config.get(session, SECTIONS["tts"]["ENGINE"]) or ""
    if engine == "":
        raise NotFound(messages.NOT_FOUND)
    _check(session, user, "chat.tts")
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadRequest("Invalid JSON payload") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("input"), str) or not payload["input"].strip():
        raise BadRequest("Speech input must be nonempty text.")
    model = app_config.get(session, SECTIONS["tts"]["MODEL"])
    name = hashlib.sha256(body + str(engine).encode() + str(model).encode()).hexdigest()
    return payload, SPEECH_KEY.format(name=name)


def is_spoken(key: str) -> bool:
    """Whether the speech cache holds the answer to this request already."""
    return get_storage().exists(key)


def start_speech(session: Session, user: User, payload: dict, key: str) -> Job:
    return catalog.send(session, catalog.SPEECH, catalog.Speech(payload["input"], str(payload.get("voice") or ""), key),
                        owner_id=user.id)


def _content_type_allowed(session: Session, content_type: str | None) -> bool:
    allowed = app_config.get(session, SECTIONS["stt"]["SUPPORTED_CONTENT_TYPES"]) or DEFAULT_CONTENT_TYPES
    kind = (content_type or "").split(";")[0].strip().lower()
    return bool(kind) and any(fnmatch.fnmatch(kind, pattern.strip().lower()) for pattern in allowed)


def start_transcription(session: Session, user: User, stream: BinaryIO, filename: str, content_type: str | None,
                        language: str | None) -> tuple[Job, str]:
    """Check and keep the recording, then the job that transcribes it; the name Open WebUI answers with."""
    _check(session, user, "chat.stt")
    if not _content_type_allowed(session, content_type):
        raise BadRequest("Oops! The file type you uploaded is not supported. Please try again with a file of a "
                         "supported type.")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    allowed = app_config.get(session, SECTIONS["stt"]["ALLOWED_EXTENSIONS"]) or []
    if allowed and extension not in allowed:
        raise BadRequest("Invalid audio file extension")
    name = f"{uuid.uuid4()}.{extension}" if extension else str(uuid.uuid4())
    key = TRANSCRIPTION_KEY.format(name=name)
    try:
        get_storage().save(stream, key, MAX_UPLOAD_BYTES)
    except TooLarge:
        raise BadRequest(f"The recording is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.") from None
    job = catalog.send(session, catalog.TRANSCRIPTION,
                       catalog.Transcription(key, name, (content_type or "").split(";")[0], language or None),
                       owner_id=user.id)
    return job, name


def start_list(session: Session, user: User, what: str) -> Job:
    """The TTS engine's ``models`` or ``voices`` (the engine is asked by a job)."""
    return catalog.send(session, catalog.SPEECH_LISTS, catalog.SpeechList(what), owner_id=user.id)
