"""The loopback HTTP server the fake AI upstreams share: a thread, a request log and per-test behaviour.

A fake subclasses :class:`FakeUpstream` and declares routes with :meth:`FakeUpstream.route`; a handler
gets the parsed :class:`Received` request and writes its answer with :class:`Reply` (JSON, or a
chunked stream of lines). Streams use HTTP/1.1 chunked transfer encoding as the real servers do, so a
mid-stream drop (connection closed without the terminating chunk) is visible to clients as an error.

Behaviour (``fake.behaviour``, reset by :meth:`FakeUpstream.reset`), applied to every request:

- ``delay``       seconds between streamed chunks (default 0)
- ``first_delay`` seconds before the first byte of the answer (default 0)
- ``status`` / ``error``  answer this HTTP status with this error message instead of the normal answer
- ``drop_after``  close the connection abruptly after this many streamed chunks
- ``hang``        send nothing until the client goes away or the server stops (bounded by 60 s)
- ``fail_times``  apply ``status``/``error`` only to the first N requests after ``behave``, then answer normally
- ``linger``      seconds to keep a stream's body open after its last chunk before ending it (default 0)
- ``retry_after`` with ``status``: the ``Retry-After`` header (seconds) sent with the error (a 429's)
- ``error_body``  with ``status``: ``(content_type, text)`` sent instead of the protocol's JSON error (the
                  HTML page of a proxy's 502, a plain-text 500)
- ``error_after`` end a stream after this many chunks with the protocol's mid-stream error object
- ``stall_after`` send nothing more after this many streamed chunks, as ``hang`` (longer than a read timeout)
- ``keepalive``   put keep-alive lines between an SSE stream's chunks (``: keep-alive``, ``: ping`` comments
                  and extra blank lines, as proxies and OpenAI-compatible servers send them)
- ``thinking``    text the model "thinks" (streamed as thinking/reasoning chunks) before it answers
- ``tool_calls``  ``[{"name", "arguments": {...}}]``: the model answers with these tool calls instead of text

A handler's own exception (a bug in the fake) is recorded in ``fake.failures`` instead of only closing the
connection; the fixtures (``tests/fakes/fixtures.py``) fail the test that saw one.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_BEHAVIOUR: dict[str, Any] = {
    "delay": 0.0, "first_delay": 0.0, "status": None, "error": None, "drop_after": None, "hang": False,
    "fail_times": None, "linger": 0.0, "retry_after": None, "error_body": None, "error_after": None,
    "stall_after": None, "keepalive": False, "thinking": None, "tool_calls": None,
}
CLIENT_GONE = (BrokenPipeError, ConnectionResetError)
"""What writing to a client that went away raises: normal in disconnect tests, not a fault of the fake."""


@dataclass
class Received:
    """One request as the fake upstream saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)
    client: tuple[str, int] = ("", 0)
    """The client's address and port: requests on one kept-alive connection share it."""
    disconnected: threading.Event = field(default_factory=threading.Event)
    """Set when the fake noticed the client closed the connection mid-answer."""
    at: float = field(default_factory=time.monotonic)
    """When the request came in (``time.monotonic``): the spacing of retries."""
    raw: bytes = b""
    """The body as it was sent (what a signature covers)."""


class Reply:
    """Writes one answer on the handler's socket."""

    def __init__(self, handler: BaseHTTPRequestHandler, upstream: FakeUpstream, received: Received) -> None:
        self.handler = handler
        self.upstream = upstream
        self.received = received
        self.headers: dict[str, str] = {}
        """Extra headers for a JSON or plain answer (``Retry-After``)."""

    def json(self, payload: Any, status: int = 200) -> None:
        self.body(json.dumps(payload).encode(), "application/json; charset=utf-8", status)

    def body(self, data: bytes, content_type: str, status: int = 200) -> None:
        self.handler.send_response(status)
        self.handler.send_header("Content-Type", content_type)
        self.handler.send_header("Content-Length", str(len(data)))
        for name, value in self.headers.items():
            self.handler.send_header(name, value)
        self.handler.end_headers()
        self.handler.wfile.write(data)

    def stream(self, chunks: Iterable[bytes], content_type: str) -> None:
        """Chunked transfer, honouring ``delay``, ``keepalive``, ``drop_after``, ``error_after`` and
        ``stall_after``; notes a client disconnect."""
        behaviour = self.upstream.behaviour
        self.handler.send_response(200)
        self.handler.send_header("Content-Type", content_type)
        self.handler.send_header("Transfer-Encoding", "chunked")
        self.handler.end_headers()
        out = self.handler.wfile
        sse = content_type.startswith("text/event-stream")

        def send(chunk: bytes) -> None:
            out.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            out.flush()

        try:
            for index, chunk in enumerate(chunks):
                if behaviour["drop_after"] is not None and index >= behaviour["drop_after"]:
                    out.flush()
                    self.handler.connection.shutdown(socket.SHUT_RDWR)
                    self.handler.close_connection = True
                    return
                if behaviour["stall_after"] is not None and index >= behaviour["stall_after"]:
                    self.upstream._hang(self.handler, self.received)
                    return
                if behaviour["error_after"] is not None and index >= behaviour["error_after"]:
                    send(stream_error(sse, behaviour["error"] or "fake upstream failure mid-stream"))
                    break
                if index and behaviour["delay"]:
                    time.sleep(behaviour["delay"])
                if index and behaviour["keepalive"] and sse:
                    send(b": keep-alive\n\n" if index % 2 else b": ping\n\n\n")
                send(chunk)
            if behaviour["linger"]:
                self.upstream._stopping.wait(behaviour["linger"])
            out.write(b"0\r\n\r\n")
            out.flush()
        except CLIENT_GONE:
            self.received.disconnected.set()
            self.handler.close_connection = True


def stream_error(sse: bool, message: str) -> bytes:
    """What an upstream writes into a stream that fails midway: an OpenAI-style server's ``data:`` line with
    its error object (after which the body ends, no ``[DONE]``), Ollama's ``{"error"}`` line."""
    if sse:
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return b"data: " + json.dumps({"error": error}, separators=(",", ":")).encode() + b"\n\n"
    return json.dumps({"error": message}, separators=(",", ":")).encode() + b"\n"


Handler = Callable[[Received, Reply], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    """A listen backlog for benchmark concurrency (the default 5 resets connections under load)."""

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away is normal here (disconnect tests); no tracebacks on stderr


class FakeUpstream:
    """A fake AI server on 127.0.0.1 (random port) running in a daemon thread."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Received] = []
        self.behaviour: dict[str, Any] = dict(DEFAULT_BEHAVIOUR)
        self.failures: list[str] = []
        """Tracebacks of exceptions the fake's own code raised while answering (see ``take_failures``)."""
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._served = 0
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeUpstream:
        upstream = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # small chunks leave at once, as from a real server

            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    upstream._dispatch(self)
                except CLIENT_GONE:
                    self.close_connection = True
                except Exception:
                    with upstream._lock:
                        upstream.failures.append(f"{self.command} {self.path}:\n{traceback.format_exc()}")
                    raise  # the server closes the connection; the test fails at teardown

            do_POST = do_DELETE = do_PUT = do_HEAD = do_GET

        self._server = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        """Normal behaviour and an empty request log (fixtures call this between tests)."""
        self.behaviour = dict(DEFAULT_BEHAVIOUR)
        with self._lock:
            self.requests.clear()
            self._served = 0

    def take_failures(self) -> list[str]:
        """The recorded exceptions of the fake's own code, cleared."""
        with self._lock:
            failures, self.failures = self.failures, []
        return failures

    def behave(self, **changes: Any) -> None:
        unknown = set(changes) - set(DEFAULT_BEHAVIOUR)
        if unknown:
            raise KeyError(f"unknown behaviour {sorted(unknown)}")
        self.behaviour.update(changes)
        with self._lock:
            self._served = 0  # fail_times counts from here

    def received(self, path: str) -> list[Received]:
        """The requests received on this path, oldest first."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- routing ---------------------------------------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(pattern + "$"), handler))
            return handler

        return register

    def error(self, reply: Reply, status: int, message: str) -> None:
        """The upstream's own error body (overridden per protocol)."""
        reply.json({"error": message}, status)

    def _fail(self, reply: Reply) -> None:
        """Answer the ``status`` behaviour: the protocol's error, or ``error_body``; with ``Retry-After``."""
        behaviour = self.behaviour
        if behaviour["retry_after"] is not None:
            reply.headers["Retry-After"] = str(behaviour["retry_after"])
        if behaviour["error_body"] is not None:
            content_type, text = behaviour["error_body"]
            reply.body(text.encode(), content_type, behaviour["status"])
            return
        self.error(reply, behaviour["status"], behaviour["error"] or "fake upstream failure")

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        received = Received(handler.command, path, dict(handler.headers.items()), body, params,
                            handler.client_address, raw=raw)
        with self._lock:
            self.requests.append(received)
            self._served += 1
            served = self._served
        reply = Reply(handler, self, received)
        behaviour = self.behaviour
        if behaviour["hang"]:
            self._hang(handler, received)
            return
        if behaviour["first_delay"]:
            time.sleep(behaviour["first_delay"])
        failing = behaviour["status"] is not None and (
            behaviour["fail_times"] is None or served <= behaviour["fail_times"])
        if failing:
            self._fail(reply)
            return
        for method, pattern, route_handler in self.routes:
            if method == handler.command and pattern.match(path):
                route_handler(received, reply)
                return
        self.error(reply, 404, f"no route {handler.command} {path}")

    def refused(self, handler: BaseHTTPRequestHandler) -> Reply:
        """Record a request turned away before routing (a wrong key ...); the reply to answer it with."""
        handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        received = Received(handler.command, handler.path.partition("?")[0], dict(handler.headers.items()), None)
        with self._lock:
            self.requests.append(received)
        return Reply(handler, self, received)

    def _hang(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        """Send nothing (more); return when the client hangs up, the server stops, or after 60 s."""
        handler.connection.settimeout(0.05)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self._stopping.is_set():
            try:
                if handler.connection.recv(1, socket.MSG_PEEK) == b"":
                    received.disconnected.set()
                    break
            except TimeoutError:
                continue
            except OSError:
                received.disconnected.set()
                break
        handler.close_connection = True


NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
             "</center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n")
"""The page a reverse proxy (nginx) answers when the server behind it is down: ``error_body`` for a fake."""


def words(text: str) -> list[str]:
    """Text split into tokens the way the fakes stream it: words, each but the first with its leading space."""
    parts = text.split(" ")
    return [parts[0]] + [" " + p for p in parts[1:]]


def reply_text(prompt: str, limit: int | None) -> str:
    """The fakes' deterministic answer: numbered tokens when a token limit is set, else an echo."""
    if limit:
        return " ".join(f"w{i}" for i in range(int(limit)))
    return f"You said: {prompt}" if prompt else "Hello!"


def tool_result(messages: list[dict] | None) -> str | None:
    """The content of a tool's result when it is the last message (a model then answers from it, and calls
    no tool again): the fakes answer ``Tool said: <content>``."""
    last = (messages or [{}])[-1]
    return f"Tool said: {last.get('content')}" if last.get("role") == "tool" else None


def hashed_embedding(text: str, dims: int = 16) -> list[float]:
    """A deterministic bag-of-words embedding: each word adds 1 to a hashed dimension; L2-normalised."""
    import hashlib
    import math

    vector = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
