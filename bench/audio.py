"""The local speech engines on this CPU: seconds of work per second of audio, and the memory they hold.

    .venv/bin/python bench/audio.py [--sentences 5]

Runs, in-process, what the ``audio`` jobs run with the engines of the ``audio`` extra: Piper speaks each of
``--sentences`` sentences (to MP3, as ``/api/v1/audio/speech`` answers), then faster-whisper (Whisper tiny.en)
transcribes each MP3 back. Prints the real-time factor (processing seconds per second of audio; below 1 is
faster than real time) of each, the share of key words heard back, the models' load times, and the process's
resident memory before and after both models are loaded (what an audio worker holds).
"""
from __future__ import annotations

import argparse
import io
import re
import statistics
import time

from harness import machine, print_table

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Switchyard runs every piece of AI work as a durable job on a queue.",
    "Please remind me to water the plants in the garden tomorrow morning.",
    "The weather in Paris is sunny with a light breeze from the west.",
    "Seven workers process the images while the web answers the questions.",
]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    args = parser.parse_args()
    print(f"at start: {machine()}\n")

    from faster_whisper import decode_audio

    from shared.providers import local_speech

    before = rss_mb()
    started = time.perf_counter()
    local_speech.synthesize("Warm up.")
    voice_load = time.perf_counter() - started
    started = time.perf_counter()
    local_speech.transcribe(local_speech.synthesize("Warm up."))
    whisper_load = time.perf_counter() - started
    loaded = rss_mb()

    tts, stt, heard = [], [], []
    for sentence in (SENTENCES * (args.sentences // len(SENTENCES) + 1))[:args.sentences]:
        started = time.perf_counter()
        mp3 = local_speech.synthesize(sentence)
        spoken = time.perf_counter() - started
        seconds = len(decode_audio(io.BytesIO(mp3))) / 16000
        started = time.perf_counter()
        text = local_speech.transcribe(mp3, "en")
        stt.append((time.perf_counter() - started) / seconds)
        tts.append(spoken / seconds)
        wanted = set(re.findall(r"[a-z]+", sentence.lower()))
        heard.append(len(wanted & set(re.findall(r"[a-z]+", text.lower()))) / len(wanted))

    print_table(("measure", "figure"), [
        ("TTS real-time factor, Piper en_US-joe-medium to MP3 (median)", f"{statistics.median(tts):.3f}"),
        ("STT real-time factor, Whisper tiny.en int8 from MP3 (median)", f"{statistics.median(stt):.3f}"),
        ("words heard back (mean share)", f"{statistics.mean(heard):.0%}"),
        ("first use: Piper load + one sentence / Whisper load + one sentence", f"{voice_load:.2f} s / "
                                                                               f"{whisper_load:.2f} s"),
        ("resident memory before / with both models loaded", f"{before:.0f} MB / {rss_mb():.0f} MB "
                                                             f"(after loading: {loaded:.0f} MB)"),
    ])


if __name__ == "__main__":
    main()
