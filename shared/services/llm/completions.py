"""One short, non-streamed completion of a prompt on the model's own connection, for the steps a job runs
around its main work (after-reply titles and tags, a chat's web search queries)."""
from __future__ import annotations

from shared.db import session_scope
from shared.models import User
from shared.services.llm import clients, gateway


def complete(owner_id: str, model_id: str, prompt: str) -> str:
    """The answer's text to ``prompt`` as one user message, from ``model_id`` as ``owner_id`` may call it."""
    with session_scope() as session:
        resolved = gateway.resolve(session, session.get(User, owner_id), model_id)
    conn = resolved.conn
    _, client = clients.open_client(conn.kind, conn.idx, owner_id, model_id=model_id)
    answer = client.chat({"model": conn.upstream_model(resolved.upstream_id),
                          "messages": [{"role": "user", "content": prompt}]}, model_id)
    return (((answer.get("choices") or [{}])[0]).get("message") or {}).get("content") or ""
