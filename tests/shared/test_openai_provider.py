"""What an Azure OpenAI deployment is sent (the HTTP side is in tests/e2e/test_gateway_wire.py)."""
from __future__ import annotations

import pytest

from shared.errors import UpstreamError
from shared.providers.openai import OpenAIClient, azure_chat_body

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True, "max_tokens": 5,
        "temperature": 0.3, "stream_options": {"include_usage": True}, "metadata": {"chat": "c1"}}


def test_azure_chat_body_keeps_only_what_the_api_version_takes():
    assert azure_chat_body(BODY, "2024-06-01") == {
        "messages": BODY["messages"], "stream": True, "max_tokens": 5, "temperature": 0.3}
    assert azure_chat_body(BODY, "2024-10-21")["stream_options"] == {"include_usage": True}
    reasoning = azure_chat_body({**BODY, "model": "gpt-5.1-mini"}, "2024-06-01")
    assert reasoning == {"messages": BODY["messages"], "stream": True, "max_completion_tokens": 5}
    assert azure_chat_body({**BODY, "model": "o1", "temperature": 1}, "2024-06-01")["temperature"] == 1


def test_azure_v1_base_urls_are_called_like_any_openai_server():
    v1 = OpenAIClient("https://r.openai.azure.com/openai/v1", "k", config={"azure": True})
    assert v1.api_version is None and v1.http.headers == {"Authorization": "Bearer k", "api-key": "k"}
    deployments = OpenAIClient("https://r.openai.azure.com", "k", config={"provider": "azure"})
    assert deployments.api_version == "2023-03-15-preview"
    assert OpenAIClient("http://x/v1", "k", config={"auth_type": "none"}).http.headers == {}
    with pytest.raises(UpstreamError) as refused:
        OpenAIClient("http://x/v1", "k", config={"auth_type": "session"})
    assert refused.value.status == 501


def test_a_deployment_name_that_would_leave_the_path_is_refused_before_any_call():
    client = OpenAIClient("http://127.0.0.1:9", "k", config={"azure": True})
    for model in ("../keys", "a/b", ""):
        with pytest.raises(UpstreamError) as refused:
            client.call("POST", "/chat/completions", {"model": model, "messages": []})
        assert refused.value.status == 400
