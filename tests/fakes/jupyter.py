"""A fake Jupyter server: ``/login`` (the ``_xsrf`` cookie, then a session cookie for the right password),
``POST /api/kernels``, ``DELETE /api/kernels/{id}`` (a token as ``?token=`` or the session cookie) and the kernel's
websocket ``/api/kernels/{id}/channels``, where an ``execute_request`` is answered as a kernel does: ``status
busy``, the cell's ``stream`` output, its ``execute_result`` or ``error``, then ``status idle``, each with the
request as ``parent_header`` (and one message of another request first, which a client must skip). The cell
runs in this test process, with its prints captured; with ``silent`` set nothing is sent after ``busy``."""
from __future__ import annotations

import ast
import base64
import contextlib
import hashlib
import io
import json
import socket
import struct
import traceback
import uuid

from tests.fakes.server import FakeUpstream, Received, Reply

TOKEN, PASSWORD, SESSION = "jupyter-token", "jupyter-password", "username-127-0-0-1=signed-in"


class FakeJupyter(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.kernels: set[str] = set()
        self.deleted: list[str] = []
        self.silent = False

        @self.route("GET", "/login")
        def login_page(_request: Received, reply: Reply) -> None:
            reply.headers = {"Set-Cookie": "_xsrf=xsrf-1; Path=/"}
            reply.body(b"<form></form>", "text/html")

        @self.route("POST", "/login")
        def login(request: Received, reply: Reply) -> None:
            form = dict(part.split("=", 1) for part in str(request.body or "").split("&") if "=" in part)
            if form.get("_xsrf") != "xsrf-1" or "_xsrf=xsrf-1" not in request.headers.get("Cookie", ""):
                reply.body(b"XSRF cookie does not match POST argument", "text/plain", 403)
                return
            if form.get("password") == PASSWORD:
                reply.headers = {"Set-Cookie": f"{SESSION}; Path=/", "Location": "/tree"}
            reply.body(b"", "text/html", 302)

        @self.route("POST", "/api/kernels")
        def start(request: Received, reply: Reply) -> None:
            if not self._signed_in(request.params, request.headers):
                reply.json({"message": "Forbidden", "reason": None}, 403)
                return
            kernel = str(uuid.uuid4())
            self.kernels.add(kernel)
            reply.json({"id": kernel, "name": "python3", "execution_state": "starting"}, 201)

        @self.route("DELETE", r"/api/kernels/(?P<id>[\w-]+)")
        def delete(request: Received, reply: Reply) -> None:
            kernel = request.path.rsplit("/", 1)[-1]
            self.kernels.discard(kernel)
            self.deleted.append(kernel)
            reply.body(b"", "application/json", 204)

    @staticmethod
    def _signed_in(params: dict, headers: dict) -> bool:
        return params.get("token") == TOKEN or SESSION in headers.get("Cookie", "")

    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"message": message, "reason": None}, status)

    def reset(self) -> None:
        super().reset()
        self.kernels.clear()
        self.deleted.clear()
        self.silent = False

    # -- the kernel's websocket ---------------------------------------------------------------------
    def _dispatch(self, handler) -> None:
        path, _, query = handler.path.partition("?")
        if not path.endswith("/channels"):
            super()._dispatch(handler)
            return
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        headers = dict(handler.headers.items())
        self.requests.append(Received("GET", path, headers, None, params))
        if path.split("/")[3] not in self.kernels or not self._signed_in(params, headers):
            self.refused(handler).json({"message": "Forbidden"}, 403)
            return
        key = handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept.decode())
        handler.end_headers()
        handler.wfile.flush()
        sock = handler.connection
        request = json.loads(_read_frame(sock))
        parent = request["header"]
        send = (lambda kind, content, of=parent: _send_frame(sock, {
            "header": {"msg_id": uuid.uuid4().hex, "msg_type": kind}, "msg_type": kind, "parent_header": of,
            "content": content, "channel": "iopub"}))
        send("status", {"execution_state": "busy"}, {"msg_id": "another-request"})
        send("status", {"execution_state": "busy"})
        if self.silent:
            self._hang(handler, self.requests[-1])
            return
        for kind, content in _run_cell(request["content"]["code"]):
            send(kind, content)
        send("status", {"execution_state": "idle"})
        self._hang(handler, self.requests[-1])  # until the client closes
        handler.close_connection = True


def _run_cell(code: str) -> list[tuple[str, dict]]:
    """What a kernel sends for ``code``: its prints, then its last value or its error."""
    printed, messages = io.StringIO(), []
    namespace: dict = {}
    try:
        tree = ast.parse(code)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, "<cell>", "exec"), namespace)  # noqa: S102  (the tests' own snippets)
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None
    except Exception as error:  # noqa: BLE001  (a cell's error is what the kernel reports)
        messages = [("error", {"ename": type(error).__name__, "evalue": str(error),
                               "traceback": traceback.format_exception_only(type(error), error)})]
        value = None
    if printed.getvalue():
        messages.insert(0, ("stream", {"name": "stdout", "text": printed.getvalue()}))
    if value is not None:
        messages.append(("execute_result", {"data": {"text/plain": repr(value)}, "execution_count": 1}))
    return messages


def _read_frame(sock: socket.socket) -> str:
    """One masked text frame from the client."""
    head = _exactly(sock, 2)
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", _exactly(sock, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _exactly(sock, 8))[0]
    mask = _exactly(sock, 4)
    return bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(sock, length))).decode()


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the websocket")
        data += chunk
    return data


def _send_frame(sock: socket.socket, message: dict) -> None:
    payload = json.dumps(message).encode()
    size = len(payload)
    header = bytes([0x81]) + (bytes([size]) if size < 126 else bytes([126]) + struct.pack(">H", size)
                              if size < 65536 else bytes([127]) + struct.pack(">Q", size))
    sock.sendall(header + payload)
