"""Speech end to end: web -> Redis -> a real worker -> a fake OpenAI or ElevenLabs, or the local engines (Piper,
faster-whisper) for real -> back, with Open WebUI's paths and shapes."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from shared.db import session_scope
from shared.models import AppConfig
from shared.services.audio import SECTIONS
from tests.e2e.gateway_stack import Stack, stack_env
from tests.e2e.processes import web_server
from tests.fakes.audio import VOICES, mp3_for
from tests.fakes.fixtures import (FAKE_ELEVENLABS_KEY, FAKE_OPENAI_KEY, elevenlabs_server,  # noqa: F401
                                  fake_elevenlabs, fake_openai, ollama_server, openai_server)
from tests.helpers import bearer
from tests.jobs.worker import running_worker

RACHEL = VOICES[0]["voice_id"]


@pytest.fixture(scope="module")
def stack(database, ollama_server, openai_server, elevenlabs_server):
    env = {**stack_env(ollama_server.url, openai_server.url), "ELEVENLABS_API_BASE_URL": elevenlabs_server.url,
           "AIOHTTP_CLIENT_TIMEOUT": "30"}
    with running_worker(threads=4, modules=(), env=env) as worker, web_server(env) as url:
        yield Stack(url, worker)


def configure(stack, admin: dict, tts: dict | None = None, stt: dict | None = None) -> dict:
    response = requests.post(f"{stack.url}/api/v1/audio/config/update", json={"tts": tts or {}, "stt": stt or {}},
                             headers=bearer(admin["token"]), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def speak(stack, headers: dict, **body) -> requests.Response:
    return requests.post(f"{stack.url}/api/v1/audio/speech", json=body, headers=headers, timeout=120)


def transcribe(stack, headers: dict, name: str, data: bytes, content_type: str, **form) -> requests.Response:
    return requests.post(f"{stack.url}/api/v1/audio/transcriptions", files={"file": (name, data, content_type)},
                         data=form, headers=headers, timeout=120)


def openai_tts(stack, admin, fake) -> None:
    configure(stack, admin, tts={"ENGINE": "openai", "OPENAI_API_BASE_URL": fake.url, "OPENAI_API_KEY": FAKE_OPENAI_KEY,
                                 "MODEL": "tts-fake", "VOICE": "nova"})


def test_openai_speech_is_mp3_and_a_repeated_request_comes_from_the_cache(stack, admin, fake_openai):
    headers = bearer(admin["token"])
    openai_tts(stack, admin, fake_openai)
    for _ in range(2):
        response = speak(stack, headers, input="Hello there", voice="fable")
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "audio/mpeg"
        assert response.content == mp3_for("openai", "fable", "tts-fake", "Hello there")
    sent = fake_openai.received("/v1/audio/speech")
    assert len(sent) == 1 and sent[0].body == {"input": "Hello there", "model": "tts-fake", "voice": "fable",
                                               "response_format": "mp3"}
    assert speak(stack, headers, input="Hi").content == mp3_for("openai", "nova", "tts-fake", "Hi")  # the default voice


def test_speech_while_the_browser_speaks_bad_input_and_permissions(stack, admin, make_user, fake_openai):
    headers = bearer(admin["token"])
    configure(stack, admin, tts={"ENGINE": ""})
    assert speak(stack, headers, input="x").status_code == 404
    openai_tts(stack, admin, fake_openai)
    broken = requests.post(f"{stack.url}/api/v1/audio/speech", data="{nope", headers=headers, timeout=30)
    assert broken.status_code == 400 and broken.json()["detail"] == "Invalid JSON payload"
    assert speak(stack, headers, input="  ").status_code == 400
    user = bearer(make_user()["token"])
    assert speak(stack, user, input="for a user").status_code == 200
    permissions = requests.get(f"{stack.url}/api/v1/users/default/permissions", headers=headers, timeout=30).json()
    permissions["chat"]["tts"] = False
    assert requests.post(f"{stack.url}/api/v1/users/default/permissions", json=permissions, headers=headers,
                         timeout=30).ok
    assert speak(stack, user, input="not any more").status_code == 403


def test_elevenlabs_speaks_with_a_voice_it_knows(stack, admin, fake_elevenlabs):
    headers = bearer(admin["token"])
    configure(stack, admin, tts={"ENGINE": "elevenlabs", "API_KEY": FAKE_ELEVENLABS_KEY,
                                 "MODEL": "eleven_multilingual_v2", "VOICE": RACHEL})
    response = speak(stack, headers, input="Good morning")
    assert response.status_code == 200, response.text
    assert response.content == mp3_for("elevenlabs", RACHEL, "eleven_multilingual_v2", "Good morning")
    assert fake_elevenlabs.received(f"/v1/text-to-speech/{RACHEL}")[-1].headers["xi-api-key"] == FAKE_ELEVENLABS_KEY
    unknown = speak(stack, headers, input="Good morning", voice="nobody")
    assert unknown.status_code == 400 and unknown.json()["detail"] == "Invalid voice id"
    voices = requests.get(f"{stack.url}/api/v1/audio/voices", headers=headers, timeout=30).json()
    assert voices == {"voices": [{"id": v["voice_id"], "name": v["name"]} for v in VOICES]}
    models = requests.get(f"{stack.url}/api/v1/audio/models", headers=headers, timeout=30).json()
    assert [m["id"] for m in models["models"]] == ["eleven_multilingual_v2", "eleven_flash_v2_5"]
    configure(stack, admin, tts={"API_KEY": "xi-wrong"})
    refused = speak(stack, headers, input="Good evening")
    assert refused.status_code == 400 and refused.json()["detail"] == "ElevenLabs: Invalid API key"


def test_an_openai_compatible_server_lists_its_own_models_and_voices(stack, admin, fake_openai):
    headers = bearer(admin["token"])
    openai_tts(stack, admin, fake_openai)
    assert requests.get(f"{stack.url}/api/v1/audio/models", headers=headers, timeout=30).json() == {
        "models": [{"id": "tts-fake"}, {"id": "tts-fake-hd"}]}
    assert requests.get(f"{stack.url}/api/v1/audio/voices", headers=headers, timeout=30).json() == {
        "voices": [{"id": "fable", "name": "Fable"}, {"id": "nova", "name": "Nova"}]}


def test_openai_transcribes_and_a_refused_language_is_tried_without_it(stack, admin, fake_openai):
    headers = bearer(admin["token"])
    configure(stack, admin, stt={"ENGINE": "openai", "OPENAI_API_BASE_URL": fake_openai.url,
                                 "OPENAI_API_KEY": FAKE_OPENAI_KEY, "MODEL": "whisper-1"})
    response = transcribe(stack, headers, "note.webm", b"SAY: hello from the test", "audio/webm", language="de")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "hello from the test" and re.fullmatch(r"[0-9a-f-]{36}\.webm", body["filename"])
    assert len(fake_openai.received("/v1/audio/transcriptions")) == 2
    garbled = transcribe(stack, headers, "note.mp3", b"\x00\x01", "audio/mpeg")
    assert garbled.status_code == 400 and "corrupted" in garbled.json()["detail"]


def test_uploads_are_checked_as_open_webui_checks_them(stack, admin):
    headers = bearer(admin["token"])
    wrong_type = transcribe(stack, headers, "note.txt", b"SAY: x", "text/plain")
    assert wrong_type.status_code == 400 and "not supported" in wrong_type.json()["detail"]
    wrong_extension = transcribe(stack, headers, "note.exe", b"SAY: x", "audio/mpeg")
    assert wrong_extension.status_code == 400 and wrong_extension.json()["detail"] == "Invalid audio file extension"
    missing = requests.post(f"{stack.url}/api/v1/audio/transcriptions", headers=headers, timeout=30)
    assert missing.status_code == 400


def test_keys_are_stored_encrypted_and_read_back_by_the_admin(stack, admin, fake_openai):
    openai_tts(stack, admin, fake_openai)
    config = requests.get(f"{stack.url}/api/v1/audio/config", headers=bearer(admin["token"]), timeout=30).json()
    assert set(config) == {"tts", "stt", "realtime"} and config["tts"]["OPENAI_API_KEY"] == FAKE_OPENAI_KEY
    with session_scope() as session:
        stored = session.scalar(select(AppConfig.value).where(AppConfig.key == SECTIONS["tts"]["OPENAI_API_KEY"]))
    assert FAKE_OPENAI_KEY not in str(stored)


def test_the_local_engines_speak_and_hear_each_other(stack, admin):
    """Piper speaks a sentence on the worker, faster-whisper transcribes it back: no network, for real."""
    headers = bearer(admin["token"])
    configure(stack, admin, tts={"ENGINE": "transformers"}, stt={"ENGINE": ""})
    spoken = speak(stack, headers, input="The quick brown fox jumps over the lazy dog.")
    assert spoken.status_code == 200, spoken.text
    assert spoken.content[:3] == b"ID3" or spoken.content[0] == 0xFF  # an MP3
    heard = transcribe(stack, headers, "fox.mp3", spoken.content, "audio/mpeg", language="en")
    assert heard.status_code == 200, heard.text
    words = set(re.findall(r"[a-z]+", heard.json()["text"].lower()))
    assert {"quick", "brown", "fox", "lazy", "dog"} <= words, heard.json()["text"]
