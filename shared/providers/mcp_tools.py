"""MCP tool servers (Open WebUI's ``TOOL_SERVER_CONNECTIONS`` of type ``mcp``), over streamable HTTP with the MCP
SDK: the server's tools as OpenAI function specs, and one call of a tool. Workers are synchronous: each use
opens a session in an event loop of its own and closes it before returning."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from shared.errors import UpstreamError

T = TypeVar("T")


def _used(url: str, headers: dict[str, str], timeout: float, use: Callable[[Client], Awaitable[T]]) -> T:
    async def session() -> T:
        async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http, \
                Client(streamable_http_client(url, http_client=http), read_timeout_seconds=timeout) as client:
            return await use(client)

    try:
        return anyio.run(session)
    except Exception as error:  # noqa: BLE001  (the SDK's, httpx's and anyio's, often wrapped in groups)
        cause = _innermost(error)
        if isinstance(cause, UpstreamError):
            raise cause from None
        if isinstance(cause, TimeoutError):
            raise UpstreamError(f"The MCP server at {url} timed out.", 504, transient=True) from error
        raise UpstreamError(f"The MCP server at {url} could not be used: {str(cause) or type(cause).__name__}", 502,
                            transient=True) from error


def _innermost(error: BaseException) -> BaseException:
    """The first error inside the exception groups the SDK's task groups wrap errors in."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def tool_specs(url: str, headers: dict[str, str], timeout: float) -> list[dict]:
    """Every tool the server lists (all pages), as Open WebUI's specs: ``{name, description, parameters}``."""
    async def listed(client: Client) -> list[dict]:
        specs, cursor = [], None
        while True:
            page = await client.list_tools(cursor=cursor)
            specs += [{"name": tool.name, "description": tool.description or "", "parameters": tool.input_schema}
                      for tool in page.tools]
            cursor = page.next_cursor
            if cursor is None:
                return specs

    return _used(url, headers, timeout, listed)


def call(url: str, headers: dict[str, str], name: str, arguments: dict, timeout: float) -> Any:
    """The tool's answer: its text when it answered text only, else its content items; a tool that reports an
    error raises it."""
    async def called(client: Client) -> Any:
        result = await client.call_tool(name, arguments, read_timeout_seconds=timeout)
        content = result.model_dump(mode="json", by_alias=True).get("content") or []
        texts = [item.get("text", "") for item in content if item.get("type") == "text"]
        if result.is_error:
            raise UpstreamError("\n".join(texts) or f"The MCP tool {name} failed.", 502)
        if texts and len(texts) == len(content):
            return "\n".join(texts)
        return content if content else json.dumps(result.structured_content)

    return _used(url, headers, timeout, called)
