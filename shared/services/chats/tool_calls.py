"""Tool calling in a chat job. Native (Open WebUI's default): the tools a chat may use are offered to the model
with their specs; each call the model makes runs (a Python tool's method as a job on the ``extensions`` queue, an
OpenAPI server's operation over HTTP) and its result goes back to the model, until it answers without calling one
(at most :data:`MAX_ROUNDS` rounds); what happened is kept as Open WebUI's ``output`` items, which the web app
shows. Legacy (``function_calling: "legacy"``): before the answer, the model is asked which tools to call (Open
WebUI's tools prompt), they run, and their results reach the answer as retrieved sources."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.errors import ServiceError
from shared.extensions import calls
from shared.extensions.sandbox import ExtensionFailed
from shared.models import Tool, User
from shared.services import access, tool_servers
from shared.services.chats import reply_tasks, task_prompts

MAX_ROUNDS = 10
LEGACY = "legacy"
TEMPLATE = reply_tasks.Template("task.tools.prompt_template", task_prompts.TOOLS)
HISTORY_MESSAGES = 4


def _specs_of(session: Session, user: User, tool_id: str) -> list[dict]:
    """A tool's function specs (an OpenAPI server's operations for ``server:<idx>``), if the user may use it."""
    if tool_id.startswith(tool_servers.PREFIX):
        return tool_servers.offered(session, user, tool_id)
    tool = session.get(Tool, tool_id)
    return (tool.specs or []) if tool is not None and access.can_access(tool, user, "read") else []


def offered(session: Session, user: User, tool_ids: list[str]) -> tuple[list[dict], dict[str, str]]:
    """The OpenAI ``tools`` of the tools ``user`` may use among ``tool_ids``, and which tool serves each
    function name (the first tool that has it)."""
    specs, serving = [], {}
    for tool_id in dict.fromkeys(tool_ids):
        for spec in _specs_of(session, user, tool_id):
            if spec.get("name") and spec["name"] not in serving:
                serving[spec["name"]] = tool_id
                specs.append({"type": "function", "function": spec})
    return specs, serving


def _run(tool_id: str, name: str, arguments: dict, owner_id: str, context: dict,
         emit: Callable[[dict], None] | None) -> object:
    """One call: an OpenAPI server's operation over HTTP from this worker, or a Python tool's method in a job
    on the ``extensions`` queue."""
    if tool_id.startswith(tool_servers.PREFIX):
        with session_scope() as session:
            return tool_servers.call(session, tool_id, name, arguments)
    return calls.call("tool", tool_id, owner_id, name, arguments,
                      {"__user__": {"id": owner_id}, "__metadata__": context, "__chat_id__": context.get("chat_id"),
                       "__message_id__": context.get("message_id")}, emit)


def _item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _result_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def run_round(request: dict, content: str, tool_calls: list[dict], serving: dict[str, str], owner_id: str,
              context: dict, output: list[dict], emit: Callable[[dict], None] | None = None) -> dict:
    """Run the model's ``tool_calls`` and answer the request for the next round: the assistant's message with
    its calls, then one ``tool`` message per call. A tool that fails answers the model with its error."""
    messages = [*request["messages"], {"role": "assistant", "content": content or None, "tool_calls": tool_calls}]
    for call in tool_calls:
        name, raw = call["function"]["name"], call["function"].get("arguments") or "{}"
        call_id = call.get("id") or _item_id("call")
        output.append({"type": "function_call", "id": call_id, "call_id": call_id, "name": name, "arguments": raw,
                       "status": "in_progress"})
        try:
            arguments = json.loads(raw)
            if name not in serving:
                raise ExtensionFailed(f"No tool offers {name}.")
            text = _result_text(_run(serving[name], name, arguments, owner_id, context, emit))
            status = "completed"
        except (ValueError, ServiceError) as error:
            text, status = f"Error: {getattr(error, 'detail', None) or error}", "failed"
        output[-1]["status"] = status
        output.append({"type": "function_call_output", "id": _item_id("fco"), "call_id": call_id,
                       "output": [{"type": "input_text", "text": text}], "status": status})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": text})
    return {**request, "messages": messages}


def final_output(output: list[dict], content: str) -> list[dict]:
    """The items with the model's last answer as a message (the web app shows the answer from it)."""
    return [*output, {"type": "message", "id": _item_id("msg"), "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": content}]}]


def wants_legacy(asked: dict, model_params: dict | None) -> bool:
    """The request's ``params.function_calling`` (else the custom model's) asks for Open WebUI's legacy mode."""
    params = asked.get("params") if isinstance(asked.get("params"), dict) else {}
    return (params.get("function_calling") or (model_params or {}).get("function_calling")) == LEGACY


def selection_request(session: Session, specs: list[dict], messages: list[dict]) -> dict:
    """Legacy mode's question to the model (``messages``: Open WebUI's tools prompt with the specs, then the
    recent history and the query) and the specs by name, which the job checks the chosen parameters against."""
    functions = [spec["function"] for spec in specs]
    system = reply_tasks.template_for(session, TEMPLATE).replace("{{TOOLS}}", json.dumps(functions, ensure_ascii=False))
    history = list(messages)
    query = reply_tasks.message_text(history[-1]) if history and history[-1].get("role") == "user" else ""
    if query:
        history = history[:-1]
    recent = "\n".join(f'{m.get("role", "").upper()}: """{reply_tasks.message_text(m)}"""'
                       for m in history[-HISTORY_MESSAGES:])
    prompt = f"History:\n{recent}\nQuery: {query}" if recent else f"Query: {query}"
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            "specs": {function["name"]: function for function in functions}}


def run_chosen(answer: str, serving: dict[str, str], specs: dict[str, dict], owner_id: str, context: dict,
               emit: Callable[[dict], None] | None = None) -> list[dict]:
    """Run the tools the model chose (``{"tool_calls": [{"name", "parameters"}]}`` in its answer), each with only
    the parameters its spec names; their results as Open WebUI's sources (``tool_result``)."""
    try:
        chosen = json.loads(answer[answer.find("{"):answer.rfind("}") + 1]).get("tool_calls") or []
    except (ValueError, AttributeError):
        return []
    sources = []
    for call in chosen if isinstance(chosen, list) else []:
        name = call.get("name") if isinstance(call, dict) else None
        if name not in serving:
            continue
        allowed = ((specs.get(name) or {}).get("parameters") or {}).get("properties") or {}
        parameters = {k: v for k, v in (call.get("parameters") or {}).items() if k in allowed}
        try:
            result = _result_text(_run(serving[name], name, parameters, owner_id, context, emit))
        except ServiceError as error:
            result = json.dumps({"error": error.detail})
        label = f"{serving[name]}/{name}"
        sources.append({"source": {"name": label}, "document": [result],
                        "metadata": [{"source": label, "parameters": parameters}], "tool_result": True})
    return sources
