"""Speech jobs: speak a text with the configured TTS engine into the speech cache, transcribe a kept recording
with the configured STT engine, list the TTS engine's models or voices. CPU-heavy local engines run here, on
the ``audio`` queue, never in a web process."""
from __future__ import annotations

import io

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog
from shared.providers import speech
from shared.services import audio
from shared.services.llm import connections
from shared.storage import get_storage


@catalog.SPEECH.actor
def speak(job_id: str, text: str, voice: str, key: str) -> dict:
    """The audio is kept under ``key`` (a request already spoken is not spoken again)."""
    storage = get_storage()
    if not storage.exists(key):
        with session_scope() as session:
            engine = audio.tts_engine(session, connections.answer_timeout())
        spoken = speech.synthesize(engine, text, voice)
        try:
            storage.save(io.BytesIO(spoken.data), key)
        except FileExistsError:  # the same request, spoken by another job meanwhile
            pass
    return {"key": key, "content_type": "audio/mpeg"}


@catalog.TRANSCRIPTION.actor
def transcribe(job_id: str, key: str, filename: str, content_type: str, language: str | None = None) -> dict:
    with session_scope() as session:
        engine = audio.stt_engine(session, connections.answer_timeout())
    with get_storage().open(key) as stream:
        data = stream.read()
    return {"text": speech.transcribe(engine, data, filename, content_type, language)}


@catalog.SPEECH_LISTS.actor
def lists(job_id: str, what: str) -> dict:
    with session_scope() as session:
        engine = audio.tts_engine(session, connections.answer_timeout())
    if what == "voices":
        return {"voices": [{"id": key, "name": name} for key, name in speech.voices(engine).items()]}
    return {"models": speech.models(engine)}
