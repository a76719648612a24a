"""Clients for saved connections as jobs open them: the admin's timeout, and the connection's custom headers
filled in for the user the call is made for (``shared.providers.clients`` picks the client by kind)."""
from __future__ import annotations

from shared.db import session_scope
from shared.extensions import pipes
from shared.jobs import current
from shared.models.job import Job
from shared.models.user import User
from shared.providers.clients import Endpoint, LLMClient, client_for
from shared.services.llm import connections
from shared.services.llm.connections import Connection


def open_client(provider: str, url_idx: int, owner_id: str | None = None,
                **context: str) -> tuple[Connection | pipes.PipeEndpoint, LLMClient]:
    """The saved connection ``provider``/``url_idx`` and a client for it (see :func:`for_endpoint`); a pipe
    function's model is served by a client that calls the pipe."""
    if provider == pipes.KIND:
        return pipes.ENDPOINT, pipes.PipeClient(owner_id, **{k: v for k, v in context.items() if k != "model_id"})
    values = connections.cached_settings()
    conn = connections.connection_in(values, provider, url_idx)
    return conn, for_endpoint(conn, connections.timeouts_in(values)[0], owner_id, **context)


def for_endpoint(endpoint: Endpoint, timeout: float, owner_id: str | None = None, **context: str) -> LLMClient:
    """A client whose custom headers are filled from ``owner_id`` (None: the running job's owner) and
    ``context`` (``chat_id``, ``message_id``, ``model_id`` ...). Nobody is looked up for a connection
    without custom headers."""
    if not endpoint.config.get("headers"):
        return client_for(endpoint, timeout)
    return client_for(endpoint, timeout, connections.custom_headers(endpoint, _user(owner_id), **context))


def _user(owner_id: str | None) -> User | None:
    with session_scope() as session:
        if owner_id is None:
            job = session.get(Job, current.current_job_id()) if current.current_job_id() else None
            owner_id = job.owner_id if job is not None else None
        user = session.get(User, owner_id) if owner_id else None
        if user is not None:
            session.expunge(user)
        return user
