"""The speech engines' pure parts: their error bodies and the choice of engine."""
from __future__ import annotations

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
