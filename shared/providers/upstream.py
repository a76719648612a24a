"""HTTP to one AI upstream: timeouts, failures mapped to :class:`UpstreamError`, and cancellation.

Every provider client (``ollama.py``, ``openai.py``) sends its requests through :class:`Upstream`, which

- maps refused/unreachable to 502 and timeouts to 504 (both ``transient``: worth a retry), an upstream
  4xx to the same status with the upstream's own message, and an upstream 5xx to 502 (transient);
- turns any failure after the first streamed byte into a non-transient error (a half-sent answer is
  never retried) that names what happened;
- when running inside a job, registers ``shared.jobs.current.on_cancel`` so that cancelling the job shuts
  the upstream socket and a blocked read ends at once.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import requests

from shared.errors import UpstreamError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
CONNECT_TIMEOUT = 5.0
DRAIN_SECONDS = 1.0
"""How long the rest of a streamed body may take once its last line is in (see :meth:`Upstream.lines`)."""

_session = requests.Session()
_session.trust_env = False  # the environment is read once per base URL (_environment), not per request
_session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=256))
_session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=256))


@lru_cache(maxsize=64)
def _environment(base_url: str) -> tuple[dict[str, str], bool | str]:
    """The proxies (``HTTP(S)_PROXY``, ``NO_PROXY``) and CA bundle (``REQUESTS_CA_BUNDLE``,
    ``CURL_CA_BUNDLE``) for ``base_url``. Requests reads them from the environment on every call, which
    cost a worker more than the rest of sending a request. A plain ``http://`` URL needs no CA bundle
    (given one, requests would still ask the file system whether it is a directory on every call)."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    verify = bundle if bundle and base_url.lower().startswith("https:") else True
    return requests.utils.get_environ_proxies(base_url), verify


def _socket(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response is read from (None once it is released or closed)."""
    return getattr(getattr(response.raw, "connection", None), "sock", None)


def _abort(response: requests.Response) -> None:
    """Shut the response's socket so a read blocked in another thread returns at once."""
    sock = _socket(response)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    response.close()


def _drain(response: requests.Response, rest: Iterator[bytes]) -> None:
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
    except (requests.RequestException, OSError, AttributeError):
        return


def _watch_cancel(response: requests.Response) -> None:
    from shared.jobs import current

    if current.current_job_id() is not None:
        current.on_cancel(lambda: _abort(response))


def _raise_if_cancelled() -> None:
    from shared.jobs import current

    if current.current_job_id() is not None:
        current.raise_if_cancelled()


class Streamed(NamedTuple):
    """One object of a streamed answer, parsed and as the JSON text the upstream sent."""

    value: Any
    text: str


def parse_streamed(data: bytes) -> Streamed:
    """``data`` (a line of an NDJSON or SSE answer) parsed; ``ValueError`` when it is not JSON."""
    text = data.decode().strip()
    return Streamed(json.loads(text), text)


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

    def send(self, method: str, path: str, body: Any = None, *, stream: bool = False) -> requests.Response:
        """The upstream's answer (status < 400) or an :class:`UpstreamError`."""
        url = self.url(path)
        proxies, verify = _environment(self.base_url)
        try:
            response = _session.request(
                method, url, json=body, headers=self.headers, stream=stream, proxies=proxies, verify=verify,
                timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
            )
        except requests.Timeout as exc:
            _raise_if_cancelled()
            raise UpstreamError(f"{self.name}: no answer from {self.base_url} within {self.timeout:g} s",
                                504, transient=True) from exc
        except requests.RequestException as exc:
            _raise_if_cancelled()
            raise UpstreamError(f"{self.name}: could not reach {self.base_url}", 502, transient=True) from exc
        if response.status_code >= 400:
            self._fail(response)
        if stream:
            _watch_cancel(response)
        return response

    def _fail(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            message = self.error_message(response.json())
        except ValueError:
            message = None
        finally:
            response.close()
        message = message or f"HTTP {status} {response.reason or ''}".strip()
        log.info("%s %s answered %s: %s", self.name, response.url, status, message)
        if status == 429 or status >= 500:
            raise UpstreamError(f"{self.name}: {message}", 429 if status == 429 else 502, transient=True,
                                upstream_status=status)
        raise UpstreamError(message, status, upstream_status=status)

    def json(self, method: str, path: str, body: Any = None) -> Any:
        response = self.send(method, path, body)
        if not response.content:
            return None
        try:
            return response.json()
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
        rest = response.iter_lines(chunk_size=None)
        try:
            for line in rest:
                if line:
                    yield line
                    if last is not None and last(line):
                        _drain(response, rest)
                        return
        except (requests.RequestException, OSError, AttributeError) as exc:
            # AttributeError: urllib3 reading from a response another thread just closed (cancel).
            _raise_if_cancelled()
            raise UpstreamError(f"{self.name}: the stream from {self.base_url} broke off before the end",
                                502) from exc
        finally:
            response.close()
