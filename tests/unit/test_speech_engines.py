"""The speech engines' pure parts: their error bodies, the choice of engine, the local engines without the extra."""
from __future__ import annotations

import sys

import pytest

from shared.errors import UpstreamError
from shared.providers import speech


def test_elevenlabs_error_bodies_become_one_message():
    assert speech._elevenlabs_error({"detail": {"status": "voice_not_found", "message": "No such voice"}}) == \
        "No such voice"
    assert speech._elevenlabs_error({"detail": [{"msg": "Field required"}, {"msg": "Too long"}]}) == \
        "Field required; Too long"
    assert speech._elevenlabs_error(["not", "an", "object"]) is None


def test_an_engine_not_built_here_is_a_400_naming_the_ones_that_are():
    with pytest.raises(UpstreamError, match="Unsupported TTS engine: 'azure'") as raised:
        speech.synthesize(speech.SpeechEngine("azure"), "hello")
    assert raised.value.status == 400 and "'elevenlabs'" in raised.value.detail
    with pytest.raises(UpstreamError, match="Unsupported STT engine: 'deepgram'"):
        speech.transcribe(speech.SpeechEngine("deepgram"), b"", "a.mp3", "audio/mpeg")


def test_openai_itself_lists_its_fixed_models_and_voices_without_a_call():
    engine = speech.SpeechEngine("openai", "https://api.openai.com/v1")
    assert speech.models(engine) == speech.OPENAI_MODELS and speech.voices(engine) == speech.OPENAI_VOICES


def test_without_the_audio_extra_the_local_engines_answer_503_naming_it(monkeypatch):
    from shared.providers import local_speech

    monkeypatch.setitem(sys.modules, "piper", None)  # as if piper-tts were not installed
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    local_speech._voice.cache_clear()
    local_speech._whisper.cache_clear()
    try:
        for call in (lambda: speech.synthesize(speech.SpeechEngine("transformers"), "hello"),
                     lambda: speech.transcribe(speech.SpeechEngine(""), b"", "a.mp3", "audio/mpeg")):
            with pytest.raises(UpstreamError, match=r"pip install '\.\[audio\]'") as raised:
                call()
            assert raised.value.status == 503
    finally:
        local_speech._voice.cache_clear()
        local_speech._whisper.cache_clear()
