"""HTTP to one AI upstream: timeouts, failures mapped to :class:`UpstreamError`, and cancellation.

Every provider client (``ollama.py``, ``openai.py``) sends its requests through :class:`Upstream`, which

- maps refused/unreachable to 502 and timeouts to 504 (both ``transient``: worth a retry), an upstream
  4xx to the same status with the upstream's own message, and an upstream 5xx to 502 (transient);
- turns any failure after the first streamed byte into a non-transient error (a half-sent answer is
  never retried) that names what happened;
- when running inside a job, registers ``shared.jobs.current.on_cancel`` so that cancelling the job shuts
  the upstream socket and a blocked read ends at once.

Requests go out through urllib3's connection pools directly: requests' own preparation of each call
(settings merging, cookies, hooks, URL requoting) took 0.67 ms to the first byte on the wire here,
urllib3 0.19 ms, on the path of every answer's first token; and without a proxy, through the base URL's
own pool rather than a pool manager, which parses the URL and looks its pool up again on every call
(a round trip to a local fake: 650-750 -> 540-590 us). Proxies (``HTTP(S)_PROXY``, ``NO_PROXY``)
and the CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's, as requests does) come
from the environment, read once per base URL. Redirects are not followed.
"""
from __future__ import annotations

import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

import certifi
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError as UrllibTimeout

from shared.config import env
from shared.errors import UpstreamError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = 300.0
CONNECT_TIMEOUT = 5.0
DRAIN_SECONDS = 1.0
"""How long the rest of a streamed body may take once its last line is in (see :meth:`Upstream.lines`)."""
Response = urllib3.BaseHTTPResponse
PLAIN_ERROR_CHARS = 200
"""How much of a plain-text error body goes into the error message."""


Opener = Callable[..., Response]
"""``opener(method, url, **urlopen_options)``: one request to a URL under the base URL it was made for."""


@lru_cache(maxsize=64)
def _opener(base_url: str) -> Opener:
    """Keep-alive connections to ``base_url``, through the proxy the environment names for it."""
    parts = urlsplit(base_url)
    options: dict[str, Any] = {"num_pools": 16, "maxsize": 256, "retries": False}
    if parts.scheme == "https":
        options["ca_certs"] = env("REQUESTS_CA_BUNDLE") or certifi.where()
    proxy = None if proxy_bypass_environment(parts.netloc) else getproxies_environment().get(parts.scheme)
    if proxy:
        return urllib3.ProxyManager(proxy, **options).urlopen
    pool = urllib3.PoolManager(**options).connection_from_url(base_url)
    origin = len(f"{parts.scheme}://{parts.netloc}")
    return lambda method, url, **kw: pool.urlopen(method, url[origin:], assert_same_host=False, **kw)


def _socket(response: Response) -> socket.socket | None:
    """The socket a streamed response is read from (None once it is released or closed)."""
    return getattr(getattr(response, "connection", None), "sock", None)


def _discard(response: Response) -> None:
    """Close the response and its connection (the pool opens a new one in its place)."""
    response.close()
    response.release_conn()


def _abort(response: Response) -> None:
    """Shut the response's socket so a read blocked in another thread returns at once."""
    sock = _socket(response)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    _discard(response)


def _drain(response: Response, rest: Iterator[bytes]) -> None:
    """Read what is left of ``response`` (``rest``) for at most ``DRAIN_SECONDS``; if it does not end in
    time the caller closes the response and with it the connection."""
    sock = _socket(response)
    if sock is None:
        return
    sock.settimeout(DRAIN_SECONDS)  # the pool sets the timeout again for the connection's next request
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        for _line in rest:
            if time.monotonic() > deadline:
                return
    except (HTTPError, OSError, AttributeError):
        return


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The lines of a body that arrives in ``chunks``, without their line ends."""
    pending = b""
    for chunk in chunks:
        lines = (pending + chunk).splitlines(keepends=True)
        pending = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        for line in lines:
            yield line.rstrip(b"\r\n")
    if pending:
        yield pending


def _watch_cancel(response: Response) -> None:
    from shared.jobs import current

    if current.current_job_id() is not None:
        current.on_cancel(lambda: _abort(response))


def raise_if_cancelled() -> None:
    """Inside a job that is being cancelled (or stopped by its time limit): raise at once."""
    from shared.jobs import current

    if current.current_job_id() is not None:
        current.raise_if_cancelled()


def refusals_as_bad_request(label: str, call: Callable[[], T]) -> T:
    """``call()``, with an upstream's refusal of the request (a bad key, an unknown model or voice, invalid
    parameters: 401, 403, 404, 422 ...) as 400 with the upstream's message under ``label``: our client's own
    credentials are not in question. An unreachable upstream and its 5xx keep 502/504 (and are retried)."""
    try:
        return call()
    except UpstreamError as exc:
        if not 400 < exc.status < 500 or exc.transient:
            raise
        detail = exc.detail if exc.detail.startswith(f"{label}:") else f"{label}: {exc.detail}"
        raise UpstreamError(detail, 400, upstream_status=exc.upstream_status) from exc


class Streamed(NamedTuple):
    """One object of a streamed answer, parsed and as the JSON text the upstream sent."""

    value: Any
    text: str

    @classmethod
    def of(cls, value: Any) -> Streamed:
        """An object we made (a converted chunk), with its JSON text as the upstreams write it."""
        return cls(value, json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def parse_streamed(data: bytes) -> Streamed:
    """``data`` (a line of an NDJSON or SSE answer) parsed; ``ValueError`` when it is not JSON."""
    text = data.decode().strip()
    return Streamed(json.loads(text), text)


def _retry_after(value: str | None) -> int | None:
    """``Retry-After`` (delay seconds or an HTTP date) as whole seconds from now; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, math.ceil(when.timestamp() - time.time()))


def _plain_error(status: int, reason: str | None, content_type: str, data: bytes) -> str:
    """An error answer that is not the upstream's JSON: a plain-text body is the message (its start); an
    HTML page is named as such (a proxy or load balancer in front of the server answered)."""
    message = f"HTTP {status} {reason or ''}".strip()
    text = data.decode("utf-8", "replace").strip()
    if content_type.startswith("text/html") or text.lower().startswith(("<!doctype html", "<html")):
        return f"{message} (an HTML page, not the server's own error: likely from a proxy in front of it)"
    if text:
        first = text.splitlines()[0]
        return f"{message}: {first[:PLAIN_ERROR_CHARS]}{'...' if len(first) > PLAIN_ERROR_CHARS else ''}"
    return message


class Upstream:
    """One base URL of one kind of upstream (``name`` prefixes error messages: "Ollama", "OpenAI")."""

    def __init__(self, name: str, base_url: str, headers: dict[str, str] | None = None,
                 timeout: float | None = None, error_message: Callable[[Any], str | None] | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.error_message = error_message or (lambda _body: None)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def send(self, method: str, path: str, body: Any = None, *, stream: bool = False,
             content_type: str | None = None) -> Response:
        """The upstream's answer (status < 400) or an :class:`UpstreamError`; ``stream`` leaves the body
        to be read. ``body`` is sent as JSON, or as it is (bytes) with ``content_type``."""
        url = self.url(path)
        if content_type is None and body is not None:
            body, content_type = json.dumps(body).encode(), "application/json"
        headers = self.headers if content_type is None else {**self.headers, "Content-Type": content_type}
        try:
            response = _opener(self.base_url)(
                method, url, body=body, headers=headers,
                preload_content=not stream, redirect=False,
                timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT, self.timeout), read=self.timeout),
            )
        except (HTTPError, OSError) as exc:
            raise_if_cancelled()
            # urllib3's NewConnectionError (refused, unresolvable) is a ConnectTimeoutError too.
            if isinstance(exc, (UrllibTimeout, TimeoutError)) and not isinstance(exc, NewConnectionError):
                raise UpstreamError(f"{self.name}: no answer from {self.base_url} within {self.timeout:g} s",
                                    504, transient=True) from exc
            raise UpstreamError(f"{self.name}: could not reach {self.base_url}", 502, transient=True) from exc
        if response.status >= 400:
            self._fail(response, url)
        if stream:
            _watch_cancel(response)
        return response

    def _fail(self, response: Response, url: str) -> None:
        status = response.status
        try:
            data = response.data
        except (HTTPError, OSError):
            data = b""
        finally:
            _discard(response)
        try:
            message = self.error_message(json.loads(data))
        except ValueError:
            message = None
        message = message or _plain_error(status, response.reason, response.headers.get("Content-Type", ""), data)
        log.info("%s %s answered %s: %s", self.name, url, status, message)
        if status == 429 or status >= 500:
            raise UpstreamError(f"{self.name}: {message}", 429 if status == 429 else 502, transient=True,
                                upstream_status=status, retry_after=_retry_after(response.headers.get("Retry-After")))
        raise UpstreamError(message, status, upstream_status=status)

    def json(self, method: str, path: str, body: Any = None) -> Any:
        return self._parsed(self.send(method, path, body).data)

    def multipart(self, method: str, path: str, fields: dict[str, str],
                  files: list[tuple[str, str, bytes, str]]) -> Any:
        """A ``multipart/form-data`` request (form ``fields``, ``files`` as (field, filename, bytes, content
        type)); its JSON answer."""
        body, content_type = urllib3.encode_multipart_formdata(
            [*fields.items(), *((name, (filename, data, kind)) for name, filename, data, kind in files)])
        return self._parsed(self.send(method, path, body, content_type=content_type).data)

    def _parsed(self, data: bytes) -> Any:
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            raise UpstreamError(f"{self.name}: the answer from {self.base_url} is not JSON") from exc

    def lines(self, method: str, path: str, body: Any = None, *,
              last: Callable[[bytes], bool] | None = None) -> Iterator[bytes]:
        """The non-empty lines of a streamed answer; a broken stream raises a non-transient error.

        With ``last``, the line it accepts ends the answer (OpenAI's ``data: [DONE]``): what follows,
        normally only the end of the body, is read and dropped within ``DRAIN_SECONDS``, so that the
        connection goes back to the pool for the next request instead of being closed (no new TCP, or TLS,
        handshake per answer). An upstream that keeps the body open past that only loses its connection.
        """
        response = self.send(method, path, body, stream=True)
        # Each piece as it arrives (the chunks of a chunked body), not 64 KiB at a time.
        rest = _lines(response.stream(None))
        try:
            for line in rest:
                if line:
                    yield line
                    if last is not None and last(line):
                        _drain(response, rest)
                        return
        except (HTTPError, OSError, AttributeError) as exc:
            # AttributeError: urllib3 reading from a response another thread just closed (cancel).
            raise_if_cancelled()
            if isinstance(exc, (UrllibTimeout, TimeoutError)):
                raise UpstreamError(f"{self.name}: the stream from {self.base_url} stalled: nothing more within "
                                    f"{self.timeout:g} s", 504) from exc
            raise UpstreamError(f"{self.name}: the stream from {self.base_url} broke off before the end",
                                502) from exc
        finally:
            if not response.closed:  # a body read to its end has gone back to the pool already
                _discard(response)
