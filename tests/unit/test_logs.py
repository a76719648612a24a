"""The log helpers: request ids offered by clients, masking of secrets, JSON lines."""
from __future__ import annotations

import json
import logging

from shared import logs


def test_a_sane_offered_request_id_is_kept_and_others_replaced():
    assert logs.new_request_id("abc-123_x.y:z") == "abc-123_x.y:z"
    for offered in (None, "", "has space", "x" * 129, "new\nline", "<script>"):
        made = logs.new_request_id(offered)
        assert made != offered and len(made) == 32


def test_keys_tokens_and_named_secrets_are_masked():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEyMyJ9.c2lnbmF0dXJl"
    text = (f"key sk-0123abcdef token {jwt} password=hunter2&next=1 {{\"api_key\": \"xyz\"}} "
            "Authorization: Bearer opaque-value token_version=3")
    masked = logs.redact(text)
    for secret in ("sk-0123abcdef", jwt, "hunter2", "xyz", "opaque-value"):
        assert secret not in masked
    assert "next=1" in masked and "token_version=3" in masked


def test_a_record_leaves_as_one_json_line_with_its_request_id():
    record = logging.LogRecord("web.requests", logging.INFO, __file__, 1, "signed in with %s", ("sk-abc",), None)
    token = logs.request_id.set("req-1")
    try:
        assert logs.Context().filter(record)
    finally:
        logs.request_id.reset(token)
    line = json.loads(logs.JsonLines().format(record))
    assert line["request_id"] == "req-1" and line["message"] == "signed in with ***"
    assert line["level"] == "INFO" and line["logger"] == "web.requests"
    text = logs.Text().format(record)
    assert "[req-1]: signed in with ***" in text and "sk-abc" not in text
