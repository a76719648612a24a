"""User code (tools, functions): loaded and called only here, each time in a sandboxed child process."""
from __future__ import annotations

import json
from collections.abc import Callable

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared import socket_events
from shared.db import session_scope
from shared.extensions import calls, sandbox
from shared.jobs import catalog, current
from shared.services import functions, oauth_clients, terminal_servers, tool_servers, tools, user_code, utilities
from shared.redis_client import get_redis
from shared.services.llm import connections

SAVED = {"tool": (tools.store, tools.tool_json), "function": (functions.store, functions.function_json)}
"""How each kind of code is stored once loaded, and answered."""


@catalog.SAVE_EXTENSION.actor
def save(job_id: str, kind: str, id: str, owner_id: str, form: dict, creating: bool) -> dict:  # noqa: A002
    """Load the code (a module that fails to load fails the job with its error, a 400) and store it with the
    specs and valve schemas read from it."""
    found = sandbox.run({"op": "inspect", "source": form["content"], "name": f"{kind}_{id}"}, f"{kind} {id}")
    store, answer = SAVED[kind]
    with session_scope() as session:
        return answer(store(session, owner_id, form, found, creating))


@catalog.SYNC_FUNCTIONS.actor
def sync_functions(job_id: str, owner_id: str, items: list) -> list[dict]:
    """Load every module first (one that fails fails the job and changes nothing), then store the set."""
    loaded = [(item, sandbox.run({"op": "inspect", "source": item["content"], "name": f"function_{item['id']}"},
                                 f"function {item['id']}")) for item in items]
    with session_scope() as session:
        return [functions.function_json(f, valves=True) for f in functions.sync(session, owner_id, loaded)]


@catalog.EXECUTE_CODE.actor
def execute_code(job_id: str, code: str) -> dict:
    """``{stdout, stderr, result}`` of a snippet run in the sandbox or on a Jupyter server; a limit it hits is
    said in its ``stderr``, as a notebook shows it, and fails nothing (a sandbox that cannot start or a Jupyter
    server that cannot be reached fails the job)."""
    return utilities.execute(code)


@catalog.LOAD_CODE_URL.actor
def load_url(job_id: str, url: str) -> dict:
    """A module's code downloaded for the editor (never run here)."""
    return user_code.code_from_url(url)


@catalog.TOOL_SERVER_DOCUMENTS.actor
def tool_server_documents(job_id: str) -> dict:
    """Read every enabled OpenAPI tool server's document and keep it beside its settings."""
    with session_scope() as session:
        return tool_servers.refresh_documents(session)


@catalog.VERIFY_TOOL_SERVER.actor
def verify_tool_server(job_id: str, server: dict) -> dict:
    """A tool server's document, read before its settings are saved."""
    with session_scope() as session:
        timeout = connections.timeouts(session)[1]
    return tool_servers.fetch_document(server, timeout)


@catalog.REGISTER_OAUTH_CLIENT.actor
def register_oauth_client(job_id: str, server_url: str, client_id: str, redirect_uri: str,
                          client_secret: str | None = None, scope: str | None = None) -> dict:
    """A tool server's OAuth client, discovered and registered (or built from static credentials), encrypted."""
    client = catalog.OAuthClient(server_url, client_id, redirect_uri, client_secret, scope)
    with session_scope() as session:
        return oauth_clients.register(session, client)


def _relay(owner_id: str, extra: dict, deliver: bool) -> Callable[[dict], None]:
    """Each output of the code (an event it emits, a piece it yields) as a ``delta`` of this job; with
    ``deliver`` each event also goes to the browsers of ``extra``'s chat and message."""
    def on_output(output: dict) -> None:
        current.publish("delta", {"chunk": output})
        event = output.get("event")
        if deliver and isinstance(event, dict) and isinstance(event.get("type"), str):
            socket_events.emit_chat_event(owner_id, extra.get("__chat_id__"), extra.get("__message_id__"),
                                          event["type"], event.get("data"))
    return on_output


@catalog.VERIFY_TERMINAL_SERVER.actor
def verify_terminal_server(job_id: str, server: dict) -> dict:
    """What kind of terminal server answers at the URL, checked before its settings are saved."""
    with session_scope() as session:
        return terminal_servers.verify(session, server)


@catalog.MCP_SPECS.actor
def mcp_specs(job_id: str, tool_id: str) -> dict:
    """An MCP server's tools, listed now (and kept for the chats that offer them)."""
    with session_scope() as session:
        return tool_servers.discover(session, tool_id)


@catalog.CALL_EXTENSION.actor
def call(job_id: str, kind: str, id: str, owner_id: str, method: str, args: dict,  # noqa: A002
         extra: dict, deliver: bool = False) -> object:
    """One method of stored code, with its valves and the caller's user valves."""
    with session_scope() as session:
        request = user_code.for_call(session, kind, id, owner_id)
    return sandbox.run({**request, "op": "call", "method": method, "args": args, "extra": extra,
                        "optional": kind == "function"}, f"{kind} {id}", on_output=_relay(owner_id, extra, deliver))


@catalog.SERVE_EXTENSION.actor
def serve(job_id: str, kind: str, id: str, owner_id: str, method: str, extra: dict) -> None:  # noqa: A002
    """One method of stored code called once per line pushed to the job's inbox, its module loaded once;
    each result is an ``answer`` delta. Ends at the inbox's last line, or when no call comes for a while."""
    with session_scope() as session:
        request = user_code.for_call(session, kind, id, owner_id)
    on_output = _relay(owner_id, extra, False)
    with sandbox.Child({**request, "op": "serve", "method": method, "extra": extra, "optional": True},
                       f"{kind} {id}") as child:
        while (item := get_redis().blpop([calls.inbox(job_id)], timeout=calls.SESSION_IDLE_SECONDS)) is not None:
            if item[1] == calls.END:
                break
            child.send(json.loads(item[1]))
            current.publish("delta", {"chunk": {"answer": child.answer(on_output)}})
