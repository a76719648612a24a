"""The child process that runs user code: ``python -m shared.extensions.runner`` reads a request (one JSON line) on
stdin, loads the module and does what was asked, answering in JSON lines on its original stdout (the module's
own prints go to stderr): ``{"event": ...}`` for each event the code emits, ``{"piece": ...}`` for each item a
generator yields, then ``{"result": ...}`` or ``{"error": ...}``. A ``serve`` request keeps the module loaded
and answers one call per further line of arguments (a filter's ``stream`` on every chunk) until its input ends.
It imports nothing of Switchyard but ``specs``, and sees no secrets (the parent passes a bare environment)."""
from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from shared.extensions import specs

CLASSES = ("Tools", "Pipe", "Filter", "Action")
"""Open WebUI's module kinds, by the class the module defines."""


def load(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__["__file__"] = f"<{name}>"
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def instance(module: types.ModuleType, valves: dict | None) -> tuple[str, Any]:
    """The module's ``Tools``/``Pipe``/``Filter``/``Action`` object, with the stored valves applied."""
    kind = next((name for name in CLASSES if isinstance(getattr(module, name, None), type)), None)
    if kind is None:
        raise ValueError(f"The module defines none of the classes {', '.join(CLASSES)}.")
    obj = getattr(module, kind)()
    if valves is not None and hasattr(obj, "Valves"):
        obj.valves = obj.Valves(**valves)
    return kind, obj


def inspected(source: str, kind: str, obj: Any) -> dict:
    """What is stored beside the code: its kind, tool specs, valve schemas and frontmatter."""
    manifest = specs.frontmatter(source)
    found = {"kind": kind.lower(), "manifest": manifest, "valves_spec": specs.valves_spec(obj, "Valves"),
             "user_valves_spec": specs.valves_spec(obj, "UserValves"),
             "has_user_valves": hasattr(obj, "UserValves")}
    if kind == "Tools":
        found["specs"] = [specs.function_spec(method) for method in specs.public_methods(obj)]
    if kind == "Pipe":
        pipes = getattr(obj, "pipes", None)
        listed = pipes() if callable(pipes) else pipes
        found["pipes"] = asyncio.run(listed) if inspect.iscoroutine(listed) else listed
    if kind == "Filter":
        found["stream"] = callable(getattr(obj, "stream", None))
        found["toggle"] = bool(getattr(obj, "toggle", False))
    return found


async def called(obj: Any, method: str, args: dict, extra: dict, user_valves: dict | None, out: TextIO) -> Any:
    """``obj.method(**args)`` with the injected parameters it declares (``__user__``, ``__event_emitter__`` ...)."""
    target = getattr(obj, method, None)
    if target is None or method.startswith("_"):
        raise ValueError(f"The module has no method {method!r}.")

    async def emit(event: dict) -> None:
        print(json.dumps({"event": event}, default=str), file=out, flush=True)

    async def ask(_event: dict) -> None:
        return None

    injected = {**extra, "__event_emitter__": emit, "__event_call__": ask}
    if "__user__" in injected and user_valves is not None and hasattr(obj, "UserValves"):
        injected["__user__"] = {**injected["__user__"], "valves": obj.UserValves(**user_valves)}
    accepted = inspect.signature(target).parameters
    kwargs = {**args, **{k: v for k, v in injected.items() if k in accepted}}
    value = target(**kwargs)
    if inspect.isawaitable(value):
        value = await value
    if inspect.isasyncgen(value):
        async for piece in value:
            _send_piece(piece, out)
        return None
    if isinstance(value, Iterator):  # a generator, or an iterator such as ``response.iter_lines()``
        for piece in value:
            _send_piece(piece, out)
        return None
    return value


def _send_piece(piece: Any, out: TextIO) -> None:
    if isinstance(piece, bytes):
        piece = piece.decode(errors="replace")
    elif hasattr(piece, "model_dump"):
        piece = piece.model_dump()
    print(json.dumps({"piece": piece}, default=str), file=out, flush=True)


def _guarded(out: TextIO, work: Callable[[], Any]) -> tuple[bool, Any]:
    """``(True, work())``, or ``(False, None)`` once ``{"error": ...}`` naming why it failed is sent."""
    try:
        return True, work()
    except MemoryError:
        text = "MemoryError: the code ran out of memory"
    except BaseException as error:  # noqa: BLE001  (the code's failure is the answer)
        frames = traceback.extract_tb(error.__traceback__)
        where = next((f"line {f.lineno}" for f in reversed(frames) if f.filename.startswith("<")), None)
        text = f"{type(error).__name__}: {error}" + (f" ({where})" if where else "")
    print(json.dumps({"error": text}), file=out, flush=True)
    return False, None


def _answer(out: TextIO, work: Callable[[], Any]) -> None:
    ok, value = _guarded(out, work)
    if ok:
        print(json.dumps({"result": value}, default=str), file=out, flush=True)


def _do(request: dict, obj: Any, kind: str, args: dict, out: TextIO) -> Any:
    if request["op"] == "inspect":
        return inspected(request["source"], kind, obj)
    if request.get("optional") and not callable(getattr(obj, request["method"], None)):
        return None  # a filter without this step (an inlet-only filter asked for its outlet)
    return asyncio.run(called(obj, request["method"], args, request.get("extra") or {},
                              request.get("user_valves"), out))


def main() -> None:
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the module's prints go to stderr, never into the answer
    request = json.loads(sys.stdin.readline())
    if request.get("packages"):
        sys.path.append(request["packages"])  # the module's installed requirements, after Switchyard's packages
    ok, loaded = _guarded(out, lambda: instance(load(request["source"], request.get("name") or "extension"),
                                                request.get("valves")))
    if not ok:
        return
    kind, obj = loaded
    if request["op"] != "serve":
        _answer(out, lambda: _do(request, obj, kind, request.get("args") or {}, out))
        return
    for line in sys.stdin:
        if line.strip():
            _answer(out, lambda: _do({**request, "op": "call"}, obj, kind, json.loads(line), out))


if __name__ == "__main__":
    main()
