"""Filter functions around a chat completion, as Open WebUI applies them: each filter's ``inlet`` rewrites the
request before the model is called, its ``stream`` each chunk of the answer, its ``outlet`` the finished reply,
in the order the web picked them (``functions.filter_ids_for``). The chat job calls these; each call is a job on
the ``extensions`` queue (a filter's ``stream`` one job for the whole answer, its module loaded once)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from shared.db import session_scope
from shared.extensions import calls
from shared.models import User
from shared.providers.upstream import Streamed
from shared.services import functions

Emit = Callable[[dict], None]


def _injected(owner_id: str, model: str, context: dict) -> dict:
    """The parameters Open WebUI passes a filter that declares them."""
    with session_scope() as session:
        user = session.get(User, owner_id)
        who = {"id": user.id, "email": user.email, "name": user.name, "role": user.role} if user else {"id": owner_id}
    metadata = {**context, "user_id": owner_id, "model": {"id": model}}
    return {"__user__": who, "__metadata__": metadata, "__model__": {"id": model},
            "__chat_id__": context.get("chat_id"), "__message_id__": context.get("message_id")}


def _through(step: str, filter_ids: list[str], owner_id: str, model: str, body: dict, context: dict,
             emit: Emit | None) -> dict:
    extra = _injected(owner_id, model, context)
    for filter_id in filter_ids:
        changed = calls.call("function", filter_id, owner_id, step, {"body": body}, {**extra, "__id__": filter_id},
                             emit)
        if isinstance(changed, dict):
            body = changed
    return body


def inlet(filter_ids: list[str], owner_id: str, model: str, request: dict, context: dict,
          emit: Emit | None = None) -> dict:
    """The request after every filter's ``inlet`` (the upstream model name stays the one the job chose)."""
    if not filter_ids:
        return request
    return {**_through("inlet", filter_ids, owner_id, model, request, context, emit), "model": request.get("model")}


def outlet_body(filter_ids: list[str], owner_id: str, model: str, body: dict, context: dict,
                emit: Emit | None = None) -> dict:
    """Open WebUI's outlet body (``model``, ``messages`` ending with the reply, ``chat_id``, ``id``) after every
    filter's ``outlet``."""
    return _through("outlet", filter_ids, owner_id, model, body, context, emit) if filter_ids else body


def outlet(filter_ids: list[str], owner_id: str, model: str, messages: list[dict], content: str, context: dict,
           emit: Emit | None = None) -> str:
    """The reply's text after every filter's ``outlet`` (Open WebUI's body: the model, the messages ending
    with the reply, the chat and message ids)."""
    if not filter_ids:
        return content
    body = {"model": model, "messages": [*messages, {"role": "assistant", "content": content}],
            "chat_id": context.get("chat_id"), "id": context.get("message_id")}
    changed = outlet_body(filter_ids, owner_id, model, body, context, emit)
    last = (changed.get("messages") or [{}])[-1]
    return last.get("content") if last.get("role") == "assistant" and isinstance(last.get("content"), str) else content


def streamed(chunks: Iterable[Streamed], filter_ids: list[str], owner_id: str, model: str, context: dict,
             emit: Emit | None = None) -> Iterable[Streamed]:
    """Each chunk of the answer (Open WebUI's ``event``: an OpenAI ``chat.completion.chunk``) after the ``stream``
    of every filter that has one; a chunk no filter changed passes on as the upstream sent it. The filters'
    sessions are opened at once, so their modules load while the model is asked."""
    streaming: list[str] = []
    if filter_ids:
        with session_scope() as session:
            streaming = functions.with_stream(session, filter_ids)
    if not streaming:
        return chunks
    extra = _injected(owner_id, model, context)
    sessions = [calls.Session("function", filter_id, owner_id, "stream", {**extra, "__id__": filter_id}, emit)
                for filter_id in streaming]
    return _through_sessions(chunks, sessions)


def _through_sessions(chunks: Iterable[Streamed], sessions: list[calls.Session]) -> Iterator[Streamed]:
    try:
        for chunk in chunks:
            value = chunk.value
            for session in sessions:
                changed = session.ask({"event": value})
                value = changed if isinstance(changed, dict) else value
            yield chunk if value is chunk.value else Streamed.of(value)
    finally:
        for session in sessions:
            session.close()
