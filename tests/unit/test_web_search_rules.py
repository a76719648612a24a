"""The rules of a web search that need no server: the task model's queries read from its answer, and the
domain filter list."""
from __future__ import annotations

import pytest

from shared.providers import youtube
from shared.services.chats.web_context import parse_queries
from shared.services.web_domains import entries, host_filter


@pytest.mark.parametrize(("answer", "queries"), [
    ('{"queries": ["a b", " c "]}', ["a b", "c"]),
    ('Sure!\n```json\n{ "queries": ["weather Paris"] }\n```', ["weather Paris"]),
    ('{"queries": []}', []),
    ('{"queries": ["", "  ", 3]}', None),
    ('{"queries": ["", "x"]}', ["x"]),
    ("no JSON at all", None),
    ('{"queries": "one"}', None),
    ('{"queries": [', None),
    ('["a", "b"]', None),
])
def test_parse_queries(answer, queries):
    assert parse_queries(answer) == queries


@pytest.mark.parametrize(("filters", "url", "passes"), [
    ([], "https://anything.example/x", True),
    (["example.org"], "https://example.org/a", True),
    (["example.org"], "https://docs.example.org/a", True),
    (["example.org"], "https://badexample.org/a", False),
    (["example.org"], "https://example.org.evil.net/a", False),
    (["!evil.net"], "https://www.evil.net/", False),
    (["!evil.net"], "https://good.net/", True),
    (["example.org", "!private.example.org"], "https://private.example.org/", False),
    (["10.0.0.0/8"], "http://10.1.2.3/", True),
    (["10.0.0.0/8"], "http://11.1.2.3/", False),
    (["127.0.0.0/8"], "http://localhost/", True),
    ([" 'Example.ORG.' "], "https://EXAMPLE.org/", True),
    (["example.org"], "not a url", False),
])
def test_host_filter(filters, url, passes):
    assert host_filter(filters)(url) is passes


def test_entries_read_a_list_or_commas():
    assert entries("a.org, !b.org,,") == ["a.org", "!b.org"]
    assert entries(["a.org", 3, " "]) == ["a.org"]
    assert entries(None) == []


@pytest.mark.parametrize(("url", "video"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ?t=3", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?v=short", None),
    ("https://evil.example/watch?v=dQw4w9WgXcQ", None),
    ("ftp://youtu.be/dQw4w9WgXcQ", None),
])
def test_youtube_video_id(url, video):
    assert youtube.video_id(url) == video
