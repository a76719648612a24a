"""``shared.providers.web_fetch``: user-given URLs reach public addresses only (unless local fetches are allowed),
checked again at every redirect, pinned to the address that was checked, within size, time and content type
limits."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.errors import BadRequest, UpstreamError
from shared.providers import web_fetch


class _Site(BaseHTTPRequestHandler):
    """``/skill`` answers a SKILL.md, ``/big`` 2 KiB, ``/away?to=URL`` redirects there."""

    hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        _Site.hosts.append(self.headers["Host"])
        if self.path.startswith("/away?to="):
            self._redirect(302, self.path.split("=", 1)[1])
            return
        self._answer(b"x" * 2048 if self.path == "/big" else b"---\nname: demo\n---\nHello")

    def do_POST(self) -> None:  # noqa: N802
        """Answers its ``X-Test`` header and the body it was sent; ``/slow`` after a second; ``/away`` redirects."""
        _Site.hosts.append(self.headers["Host"])
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(1)
        if self.path == "/away":
            self._redirect(307, "/skill")
            return
        self._answer(self.headers["X-Test"].encode() + b":" + body)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Site.hosts.clear()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_allowed(monkeypatch):
    monkeypatch.setenv("ENABLE_LOCAL_WEB_FETCH", "true")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost/", "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://100.64.0.1/", "http://[fc00::1]/",
])
def test_private_and_local_addresses_are_refused_by_default(url):
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch(url, max_bytes=1024)


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.com/a", "HTTP"), ("file:///etc/passwd", "HTTP"), ("http:///nohost", "HTTP"),
    ("http://user:pw@example.com/", "credentials"), ("http://metadata.google.internal/", "not allowed"),
])
def test_urls_that_are_not_plain_http_are_refused(url, reason):
    with pytest.raises(BadRequest, match=reason):
        web_fetch.fetch(url, max_bytes=1024)


def test_the_server_s_site_reached_when_local_fetches_are_allowed(site, local_allowed):
    fetched = web_fetch.fetch(f"http://{site}/skill", max_bytes=1024)
    assert (fetched.content_type, fetched.body) == ("text/markdown", b"---\nname: demo\n---\nHello")


def test_metadata_endpoints_stay_refused_when_local_fetches_are_allowed(local_allowed):
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch("http://169.254.169.254/latest/meta-data/", max_bytes=1024)


def test_each_redirect_is_checked(site, local_allowed):
    fetched = web_fetch.fetch(f"http://{site}/away?to=/skill", max_bytes=1024)
    assert fetched.url.endswith("/skill") and fetched.body.endswith(b"Hello")
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch(f"http://{site}/away?to=http://169.254.169.254/", max_bytes=1024)
    with pytest.raises(BadRequest, match="Too many redirects"):
        web_fetch.fetch(f"http://{site}/away?to=/away?to=/skill", max_bytes=1024, max_redirects=1)


def test_a_body_beyond_the_limit_is_refused(site, local_allowed):
    with pytest.raises(BadRequest, match="exceeds 1024 bytes"):
        web_fetch.fetch(f"http://{site}/big", max_bytes=1024)


def test_the_connection_goes_to_the_address_that_was_checked(site, local_allowed, monkeypatch):
    """The name is resolved once: the socket connects to the checked address and the request carries the name
    as its Host."""
    port = int(site.rsplit(":", 1)[1])
    real, asked = socket.getaddrinfo, []

    def resolve(host, *args, **kwargs):
        asked.append(host)
        return real("127.0.0.1" if host == "skills.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    fetched = web_fetch.fetch(f"http://skills.example:{port}/skill", max_bytes=1024)
    assert fetched.body.endswith(b"Hello") and _Site.hosts == [f"skills.example:{port}"]
    assert asked == ["skills.example", "127.0.0.1"]


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 80))]
    monkeypatch.setattr(web_fetch.socket, "getaddrinfo", lambda *_args, **_kwargs: answers)
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch("http://mixed.example/", max_bytes=1024)


def test_a_name_resolving_to_loopback_is_refused_unless_local_fetches_are_allowed(site, monkeypatch):
    """A public-looking name whose DNS answer is 127.0.0.1 is refused as the address itself would be."""
    port = int(site.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda host, *args, **kwargs: real("127.0.0.1" if host == "rebind.example" else host,
                                                           *args, **kwargs))
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch(f"http://rebind.example:{port}/skill", max_bytes=1024)
    assert _Site.hosts == []


def test_a_redirect_to_a_private_address_is_refused_without_the_allowance(site, monkeypatch):
    """The fake site stands in for a public one (its loopback address counts as public here); its redirect
    to a private address is refused at the second hop."""
    real = web_fetch._allowed
    monkeypatch.setattr(web_fetch, "_allowed",
                        lambda address, local: str(address) == "127.0.0.1" or real(address, local))
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.fetch(f"http://{site}/away?to=http://10.0.0.7/", max_bytes=1024)
    assert len(_Site.hosts) == 1


def test_a_content_type_outside_the_wanted_ones_is_refused(site, local_allowed):
    with pytest.raises(BadRequest, match="text/markdown, which cannot be loaded"):
        web_fetch.fetch(f"http://{site}/skill", max_bytes=1024, content_types=("text/html", "application/pdf"))
    fetched = web_fetch.fetch(f"http://{site}/skill", max_bytes=1024, content_types=("text/*",))
    assert fetched.content_type == "text/markdown" and _Site.hosts


def test_a_slow_download_is_cut_at_the_time_limit(site, local_allowed, monkeypatch):
    clock = iter([0.0] + [100.0] * 10)
    monkeypatch.setattr(web_fetch.time, "monotonic", lambda: next(clock))
    with pytest.raises(web_fetch.UpstreamError, match="too long"):
        web_fetch.fetch(f"http://{site}/big", max_bytes=4096, timeout=5.0)


def test_a_post_is_sent_to_the_checked_address_and_answers_whatever_its_status(site, local_allowed):
    answer = web_fetch.post(f"http://{site}/hook", b"{}", {"X-Test": "signed"}, timeout=5, keep=8)
    assert (answer.status, answer.body) == (200, b"signed:{")
    assert web_fetch.post(f"http://{site}/away", b"{}", {"X-Test": "t"}, timeout=5).status == 307  # not followed
    assert _Site.hosts == [site, site]


def test_a_post_to_a_private_address_is_refused_and_a_slow_one_is_transient(site, local_allowed, monkeypatch):
    with pytest.raises(UpstreamError) as slow:
        web_fetch.post(f"http://{site}/slow", b"{}", {"X-Test": "t"}, timeout=0.3)
    assert slow.value.transient and slow.value.status == 504
    monkeypatch.delenv("ENABLE_LOCAL_WEB_FETCH")
    with pytest.raises(BadRequest, match="private or local"):
        web_fetch.post(f"http://{site}/hook", b"{}", {"X-Test": "t"}, timeout=5)
