"""``/api/v1/audio``: speech settings, text to speech and speech to text.

Speaking and transcribing are jobs on the ``audio`` queue; the routes wait for them (bounded) and answer as Open
WebUI does: the MP3 itself, ``{"text", "filename"}``. A text already spoken is served from the speech cache
without a job.
"""
from __future__ import annotations

from flask import Response, jsonify, request
from marshmallow import fields

from shared.errors import BadRequest
from shared.services import audio
from shared.storage import get_storage, iter_bytes
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.rate_limiting import limited
from web.schemas import Body
from web.streaming.responses import result_or_accepted

blp = Blueprint("audio", __name__, url_prefix="/api/v1/audio", description="Speech")

SPEECH_TIMEOUT = 300.0
TRANSCRIPTION_TIMEOUT = 900.0
LIST_TIMEOUT = 60.0

ConfigBody = Body.from_dict({name: fields.Dict(load_default=None, allow_none=True) for name in audio.SECTIONS},
                            name="AudioConfigBody")
"""Open WebUI's ``AudioConfigUpdateForm``: ``tts``, ``stt`` and optionally ``realtime``; fields left out keep their
value."""


class TranscriptionForm(Body):
    language = fields.String(load_default=None, allow_none=True)


def _audio(key: str) -> Response:
    return Response(iter_bytes(get_storage(), key), mimetype="audio/mpeg")


@blp.route("/config", methods=["GET"])
@admin_required
def get_config():
    return jsonify(audio.read_config(db()))


@blp.route("/config/update", methods=["POST"])
@admin_required
@blp.arguments(ConfigBody)
def update_config(body: dict):
    return jsonify(audio.update_config(db(), {name: value for name, value in body.items() if value is not None}))


@blp.route("/speech", methods=["POST"])
@limited("audio")
@user_required
def speech():
    """``{input, voice?}`` spoken, as MP3 (404 while the browser speaks: engine ``""``)."""
    session, user = db(), current_user()
    payload, key = audio.speech_request(session, user, request.get_data())
    if audio.is_spoken(key):
        return _audio(key)
    job = audio.start_speech(session, user, payload, key)
    return result_or_accepted(job, SPEECH_TIMEOUT, render=lambda result: _audio(result["key"]))


@blp.route("/transcriptions", methods=["POST"])
@limited("audio")
@user_required
@blp.arguments(TranscriptionForm, location="form")
def transcriptions(form: dict):
    """A recording (multipart ``file``, optional ``language``) as ``{"text", "filename"}``."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("Invalid request: file: Missing data for required field.")
    job, name = audio.start_transcription(db(), current_user(), upload.stream, upload.filename, upload.mimetype,
                                          form["language"])
    return result_or_accepted(job, TRANSCRIPTION_TIMEOUT, render=lambda result: jsonify({**result, "filename": name}))


@blp.route("/models", methods=["GET"])
@user_required
def list_models():
    """``{"models": [{id, name?}]}`` of the TTS engine."""
    return result_or_accepted(audio.start_list(db(), current_user(), "models"), LIST_TIMEOUT)


@blp.route("/voices", methods=["GET"])
@user_required
def list_voices():
    """``{"voices": [{id, name}]}`` of the TTS engine."""
    return result_or_accepted(audio.start_list(db(), current_user(), "voices"), LIST_TIMEOUT)
