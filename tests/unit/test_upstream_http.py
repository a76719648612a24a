"""``shared.providers.upstream`` on its own: lines split across chunks, and the environment's proxy."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.errors import UpstreamError
from shared.providers import upstream
from shared.providers.upstream import Upstream


def test_lines_split_across_chunks_and_line_ends_come_out_whole():
    chunks = [b"da", b"ta: 1\r", b"\ndata: 2\n\n", b"{\"a\":", b" 1}\r\n", b"tail"]
    assert list(upstream._lines(iter(chunks))) == [b"data: 1", b"", b"data: 2", b"", b'{"a": 1}', b"tail"]


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: it records the absolute URL it was asked for."""

    seen: list[tuple[str, str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Proxy.seen.append((self.command, self.path, body))
        answer = json.dumps({"via": "proxy"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "skipped.invalid")
    upstream._opener.cache_clear()
    _Proxy.seen.clear()
    yield _Proxy.seen
    server.shutdown()
    server.server_close()
    upstream._opener.cache_clear()


def test_the_environments_proxy_carries_the_request_and_no_proxy_hosts_go_direct(proxy):
    answer = Upstream("OpenAI", "http://models.invalid:8080/v1").json("POST", "/chat/completions", {"n": 1})
    assert answer == {"via": "proxy"}
    assert proxy == [("POST", "http://models.invalid:8080/v1/chat/completions", {"n": 1})]
    with pytest.raises(UpstreamError) as direct:  # not through the proxy: the name does not resolve
        Upstream("OpenAI", "http://skipped.invalid:8080/v1").json("POST", "/chat/completions", {"n": 2})
    assert direct.value.status == 502 and len(proxy) == 1
