"""A Jupyter server's kernel API, as Open WebUI's code execution uses it (``CODE_EXECUTION_ENGINE=jupyter``): sign
in (a token sent as ``?token=``, or a password through ``/login`` and its ``_xsrf`` cookie), start a kernel
(``POST /api/kernels``), send one ``execute_request`` on its websocket (``/api/kernels/{id}/channels``), collect
what the cell prints and shows until the kernel is idle again, and delete the kernel. The answer has Open WebUI's
shape ``{stdout, stderr, result}``; a cell still running at the timeout is said in ``stderr``, as Open WebUI does.
A server that cannot be reached or refuses the sign-in is an :class:`UpstreamError`."""
from __future__ import annotations

import json
import logging
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import simple_websocket

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream, raise_if_cancelled

log = logging.getLogger(__name__)
WAIT_STEP = 0.5
"""Seconds each websocket read waits, so a cancel or the deadline is noticed."""


class JupyterClient:
    def __init__(self, base_url: str, auth: str, token: str, password: str, timeout: float) -> None:
        self.http = Upstream("Jupyter", base_url, {}, timeout, _error_message)
        self.params = {"token": token} if auth == "token" and token else {}
        self.password = password if auth == "password" else ""
        self.timeout = timeout

    def _path(self, path: str) -> str:
        return f"{path}?{urlencode(self.params)}" if self.params else path

    def _sign_in(self) -> None:
        """With a password: the ``_xsrf`` cookie from ``/login``, then the session cookie its form sets; both
        go with every later request (and the websocket's handshake)."""
        if not self.password:
            return
        cookies = _cookies(self.http.send("GET", "/login"))
        xsrf = cookies.get("_xsrf")
        if not xsrf:
            raise UpstreamError("Jupyter: its login page set no _xsrf cookie", 502)
        self.http.headers = {"Cookie": _cookie_header(cookies), "X-XSRFToken": xsrf}
        answer = self.http.send("POST", "/login", urlencode({"_xsrf": xsrf, "password": self.password}).encode(),
                                content_type="application/x-www-form-urlencoded")
        cookies.update(_cookies(answer))
        if len(cookies) < 2:
            raise UpstreamError("Jupyter: the password was not accepted", 401)
        self.http.headers = {"Cookie": _cookie_header(cookies), "X-XSRFToken": xsrf}

    def execute(self, code: str) -> dict[str, str]:
        """``{stdout, stderr, result}`` of ``code`` run in a kernel started for it (and deleted after it)."""
        self._sign_in()
        kernel = (self.http.json("POST", self._path("/api/kernels"), {}) or {}).get("id")
        if not kernel:
            raise UpstreamError("Jupyter: no kernel was started (no id)", 502)
        try:
            return self._run(kernel, code)
        finally:
            try:
                self.http.send("DELETE", self._path(f"/api/kernels/{kernel}"))
            except UpstreamError as error:
                log.warning("Jupyter: kernel %s was not deleted: %s", kernel, error)

    def _run(self, kernel: str, code: str) -> dict[str, str]:
        socket_url = self.http.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        try:
            ws = simple_websocket.Client.connect(f"{socket_url}{self._path(f'/api/kernels/{kernel}/channels')}",
                                                 headers=self.http.headers)
        except (simple_websocket.ConnectionError, OSError) as exc:
            raise UpstreamError(f"Jupyter: could not open the kernel's websocket at {socket_url}", 502,
                                transient=True) from exc
        try:
            message_id = uuid.uuid4().hex
            ws.send(json.dumps(_execute_request(message_id, code)))
            return self._collect(ws, message_id)
        finally:
            ws.close()

    def _collect(self, ws: simple_websocket.Client, message_id: str) -> dict[str, str]:
        """The cell's output, read until the kernel is idle after it (or the timeout)."""
        stdout, stderr, shown = "", "", []
        deadline = time.monotonic() + self.timeout
        while True:
            raise_if_cancelled()
            if time.monotonic() >= deadline:
                stderr += "\nExecution timed out."
                break
            try:
                frame = ws.receive(timeout=WAIT_STEP)
            except simple_websocket.ConnectionClosed as exc:
                raise UpstreamError("Jupyter: the kernel's websocket closed before the cell was done", 502) from exc
            if not isinstance(frame, str):
                continue
            message = json.loads(frame)
            if (message.get("parent_header") or {}).get("msg_id") != message_id:
                continue
            kind, content = message.get("msg_type"), message.get("content") or {}
            if kind == "stream":
                if content.get("name") == "stdout":
                    stdout += content.get("text", "")
                elif content.get("name") == "stderr":
                    stderr += content.get("text", "")
            elif kind in ("execute_result", "display_data"):
                data = content.get("data") or {}
                if "image/png" in data:
                    shown.append(f"data:image/png;base64,{data['image/png']}")
                elif "text/plain" in data:
                    shown.append(data["text/plain"])
            elif kind == "error":
                stderr += "\n".join(content.get("traceback") or [])
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        return {"stdout": stdout.strip(), "stderr": stderr.strip(), "result": "\n".join(shown).strip()}


def _error_message(body: object) -> str | None:
    """Jupyter's error body ``{"message", "reason"}``, named as the server's."""
    message = body.get("message") if isinstance(body, dict) else None
    return f"Jupyter: {message}" if message else None


def _execute_request(message_id: str, code: str) -> dict:
    return {"header": {"msg_id": message_id, "msg_type": "execute_request", "username": "user",
                       "session": uuid.uuid4().hex, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}


def _cookies(response) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
