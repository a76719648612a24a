"""The provider clients against the fake upstreams sending what real ones send when things go wrong:
error objects mid-stream, keep-alive lines, a stall, non-JSON error pages, 429 with ``Retry-After``."""
from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from shared.errors import UpstreamError
from shared.providers import upstream
from shared.providers.ollama import OllamaClient
from shared.providers.openai import OpenAIClient
from tests.fakes.fixtures import FAKE_OPENAI_KEY, fake_ollama, fake_openai, ollama_server, openai_server  # noqa: F401
from tests.fakes.server import NGINX_502

CHAT = {"model": "gpt-fake", "messages": [{"role": "user", "content": "one two three"}]}
OLLAMA_CHAT = {**CHAT, "model": "llama-fake:latest"}


def openai(fake, timeout: float = 10) -> OpenAIClient:
    return OpenAIClient(fake.url, FAKE_OPENAI_KEY, timeout)


def read(stream, into: list) -> None:
    for streamed in stream:
        into.append(streamed.value)


def test_an_openai_error_object_mid_stream_ends_the_stream_with_that_error(fake_openai):
    fake_openai.behave(error_after=3, error="The server had an error while processing your request.")
    chunks: list = []
    with pytest.raises(UpstreamError) as failed:
        read(openai(fake_openai).stream("/chat/completions", CHAT), chunks)
    assert len(chunks) == 3 and all("error" not in chunk for chunk in chunks)
    assert failed.value.detail == "OpenAI: The server had an error while processing your request."
    assert failed.value.status == 502 and not failed.value.transient  # a half-sent answer is never retried


def test_an_ollama_error_line_mid_stream_ends_the_stream_with_that_error(fake_ollama):
    fake_ollama.behave(error_after=2, error="an error was encountered while running the model: CUDA error")
    chunks: list = []
    with pytest.raises(UpstreamError) as failed:
        read(OllamaClient(fake_ollama.url, timeout=10).stream("/api/chat", OLLAMA_CHAT), chunks)
    assert [c["message"]["content"] for c in chunks] == ["You", " said:"]
    assert failed.value.detail == "Ollama: an error was encountered while running the model: CUDA error"


def test_keep_alive_comments_and_blank_lines_are_not_chunks(fake_openai):
    plain = [s.value["choices"][0]["delta"] for s in openai(fake_openai).stream("/chat/completions", CHAT)]
    fake_openai.behave(keepalive=True)
    kept_alive = [s.value["choices"][0]["delta"] for s in openai(fake_openai).stream("/chat/completions", CHAT)]
    assert kept_alive == plain and len(plain) == 7


def test_a_stream_that_stalls_past_the_read_timeout_is_a_504(fake_openai):
    fake_openai.behave(stall_after=2)
    chunks: list = []
    with pytest.raises(UpstreamError) as failed:
        read(openai(fake_openai, timeout=1).stream("/chat/completions", CHAT), chunks)
    assert len(chunks) == 2
    assert failed.value.status == 504 and "stalled" in failed.value.detail
    assert fake_openai.received("/v1/chat/completions")[-1].disconnected.wait(5)  # the connection is closed


@pytest.mark.parametrize(("content_type", "body", "status", "expected"), [
    ("text/html", NGINX_502, 502, "OpenAI: HTTP 502 Bad Gateway (an HTML page, not the server's own error: "
                                  "likely from a proxy in front of it)"),
    ("text/plain; charset=utf-8", "upstream connect error or disconnect/reset before headers\nmore", 500,
     "OpenAI: HTTP 500 Internal Server Error: upstream connect error or disconnect/reset before headers"),
    ("text/plain", "", 503, "OpenAI: HTTP 503 Service Unavailable"),
])
def test_an_error_body_that_is_not_json_gives_a_clear_message(fake_openai, content_type, body, status, expected):
    fake_openai.behave(status=status, error_body=(content_type, body))
    with pytest.raises(UpstreamError) as failed:
        openai(fake_openai).call("POST", "/chat/completions", CHAT)
    assert (failed.value.detail, failed.value.status, failed.value.transient) == (expected, 502, True)


def test_a_429_carries_the_upstreams_retry_after(fake_openai):
    fake_openai.behave(status=429, error="Rate limit reached for gpt-fake", retry_after=7)
    with pytest.raises(UpstreamError) as failed:
        openai(fake_openai).call("POST", "/chat/completions", CHAT)
    assert (failed.value.status, failed.value.retry_after, failed.value.transient) == (429, 7, True)
    assert failed.value.detail == "OpenAI: Rate limit reached for gpt-fake"


def test_retry_after_as_seconds_or_an_http_date():
    assert upstream._retry_after("12") == 12
    assert 25 <= upstream._retry_after(formatdate(time.time() + 30, usegmt=True)) <= 31
    assert upstream._retry_after(formatdate(time.time() - 30, usegmt=True)) == 0
    assert upstream._retry_after("soon") is None and upstream._retry_after(None) is None
