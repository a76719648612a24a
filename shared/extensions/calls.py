"""Calling stored user code from another job: the call runs as a job of its own on the ``extensions`` queue (so
user code only ever runs there, in its sandbox), and the calling job follows its outputs as they come: the
events the code emits, the pieces a generator yields, then the result. A :class:`Session` keeps one module
loaded across many calls (a filter's ``stream`` on every chunk of a reply), fed through a Redis list."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from shared.db import session_scope
from shared.extensions.sandbox import ExtensionFailed, Limits
from shared.jobs import catalog, current, events, results
from shared.models import Job
from shared.redis_client import get_redis, key

WAIT_MARGIN = 30.0
"""Seconds past the sandbox's own limit the caller waits for the call's job (queueing, start-up)."""
SESSION_IDLE_SECONDS = 300
"""How long a session's job waits for its next call before it ends (its caller is gone)."""
END = "end"
"""The last line of a session's inbox."""


def inbox(job_id: str) -> str:
    """The Redis list a session's calls are pushed to."""
    return key("extensions", job_id, "inbox")


def _outputs(job_id: str, what: str) -> Iterator[dict | None]:
    """The job's outputs (``{"event"}``, ``{"piece"}``, ``{"answer"}``) as they come, None on each idle second,
    then ``{"result": ...}``; its failure raises :class:`ExtensionFailed` with the job's message."""
    for event in events.iter_events(job_id, keepalive=1.0):
        if event is None or event.type == "delta":
            yield None if event is None else event.data.get("chunk") or {}
        elif event.type == "result":
            if event.data.get("stored"):
                with session_scope() as session:
                    yield {"result": results.load(session.get(Job, job_id))}
            else:
                yield {"result": event.data.get("result")}
            return
        elif event.type == "error":
            raise ExtensionFailed(event.data.get("message") or f"The {what} failed.")
        elif event.terminal:
            break
    raise ExtensionFailed(f"The {what} did not answer.")


def _send(spec: catalog.JobSpec, payload: Any, kind: str, owner_id: str, method: str) -> str:
    with session_scope() as session:
        job = catalog.send(session, spec, payload, owner_id=owner_id, parent_id=current.current_job_id(),
                           kind=f"{kind}.{method}")
        return job.id


def stream(kind: str, code_id: str, owner_id: str, method: str, args: dict, extra: dict) -> Iterator[dict]:
    """``method(**args)`` of the stored ``kind`` (``tool``/``function``) ``code_id``, run by an
    ``extensions.call`` job: its events and pieces as they come, then ``{"result": ...}``."""
    job_id = _send(catalog.CALL_EXTENSION, catalog.CallExtension(kind, code_id, owner_id, method, args, extra),
                   kind, owner_id, method)
    deadline = time.monotonic() + Limits.configured().seconds + WAIT_MARGIN
    for output in _outputs(job_id, f"{kind} {code_id}"):
        if output is not None:
            yield output
            if "result" in output:
                return
        elif time.monotonic() > deadline:
            break
    raise ExtensionFailed(f"The {kind} {code_id} did not answer.")


def call(kind: str, code_id: str, owner_id: str, method: str, args: dict, extra: dict,
         on_event: Callable[[dict], None] | None = None) -> Any:
    """The result of ``method(**args)`` (what a generator yields, joined), passing each event the code emits to
    ``on_event``; its failure raises :class:`ExtensionFailed`."""
    pieces: list[str] = []
    for output in stream(kind, code_id, owner_id, method, args, extra):
        if "event" in output and on_event is not None:
            on_event(output["event"] or {})
        elif "piece" in output:
            piece = output["piece"]
            pieces.append(piece if isinstance(piece, str) else json.dumps(piece))
        elif "result" in output:
            return "".join(pieces) if output["result"] is None and pieces else output["result"]
    return None


class Session:
    """One method of stored code called many times, its module loaded once in an ``extensions.serve`` job."""

    def __init__(self, kind: str, code_id: str, owner_id: str, method: str, extra: dict,
                 on_event: Callable[[dict], None] | None = None) -> None:
        self.what, self.on_event = f"{kind} {code_id}", on_event
        self.job_id = _send(catalog.SERVE_EXTENSION, catalog.ServeExtension(kind, code_id, owner_id, method, extra),
                            kind, owner_id, method)
        self._outputs = _outputs(self.job_id, self.what)

    def _push(self, line: str) -> None:
        name = inbox(self.job_id)
        pipe = get_redis().pipeline()
        pipe.rpush(name, line)
        pipe.expire(name, SESSION_IDLE_SECONDS)
        pipe.execute()

    def ask(self, args: dict) -> Any:
        """The method's result for ``args``; its failure (or a session that ended) raises ExtensionFailed."""
        self._push(json.dumps(args, default=str))
        deadline = time.monotonic() + Limits.configured().seconds + WAIT_MARGIN
        for output in self._outputs:
            if output is None:
                if time.monotonic() > deadline:
                    break
            elif "answer" in output:
                return output["answer"]
            elif "event" in output and self.on_event is not None:
                self.on_event(output["event"] or {})
        raise ExtensionFailed(f"The {self.what} did not answer.")

    def close(self) -> None:
        self._push(END)
