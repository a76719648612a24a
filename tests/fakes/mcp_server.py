"""A fake MCP tool server on 127.0.0.1: the MCP SDK's own server (``MCPServer``) over streamable HTTP, as MCP
servers that Open WebUI users connect serve it::

    fake = FakeMCPServer(token="mcp-key").start()
    fake.url                # "http://127.0.0.1:<port>/mcp"
    fake.calls[-1]          # ("shout", {"text": "hi"})

Tools: ``shout(text)`` answers the text in capitals, ``fail()`` answers an error. Requests without
``Authorization: Bearer <token>`` get 401.
"""
from __future__ import annotations

import socket
import threading
import time

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse


class FakeMCPServer:
    def __init__(self, token: str = "mcp-key") -> None:
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.authorizations: list[str | None] = []
        server = MCPServer("Shouting tools", instructions="Tools for the tests")

        @server.tool(description="Say the text in capitals")
        def shout(text: str) -> str:
            self.calls.append(("shout", {"text": text}))
            return text.upper()

        @server.tool(description="Always fails")
        def fail() -> str:
            self.calls.append(("fail", {}))
            raise ValueError("the fake tool failed on purpose")

        app = server.streamable_http_app()
        app.add_middleware(BaseHTTPMiddleware, dispatch=self._checked)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def _checked(self, request, call_next):
        self.authorizations.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return await call_next(request)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> FakeMCPServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake MCP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
