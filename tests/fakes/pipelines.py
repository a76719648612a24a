"""A protocol-faithful fake Pipelines server (open-webui/pipelines' ``main.py``) on 127.0.0.1, for the tests.

Like the real server it keeps pipelines as Python files, loads each (``exec``, then its ``Pipeline()``) and
answers from the loaded objects, so a test's pipeline is real pipeline code: a filter's ``async inlet(body,
user)`` / ``outlet``, a pipe's ``pipe(user_message, model_id, messages, body)``, pydantic ``Valves``, manifolds::

    fake = FakePipelines(api_key="0p3n-w3bu!", files={"upper.py": SOURCE}).start()
    fake.url                                   # "http://127.0.0.1:<port>" (the base URL of the OpenAI connection)
    fake.files                                 # {"upper.py": source}: the pipelines directory
    fake.received("/upper/filter/inlet")[-1].body
    fake.behave(status=500, hang=True ...)     # as every fake (``tests/fakes/server.py``)
    fake.reset()                               # the files it started with, reloaded

Routes (each also under ``/v1``), as the real server answers them: ``GET /models`` (the pipelines as models, each
with its ``pipeline``; the answer says ``"pipelines": true``), ``GET /pipelines``, ``POST /pipelines/add``
(``{url}``: the file downloaded), ``POST /pipelines/upload`` (multipart ``file``), ``DELETE /pipelines/delete``
(``{id}``), ``POST /pipelines/reload``, ``GET /<id>/valves``, ``GET /<id>/valves/spec``, ``POST
/<id>/valves/update``, ``POST /<id>/filter/inlet`` and ``/filter/outlet`` (``{user, body}`` -> the body), ``POST
/chat/completions`` (a pipe: SSE ``data:`` chunks ending ``data: [DONE]``, or one ``chat.completion``). The pipeline
routes and ``/models`` need ``Authorization: Bearer <api_key>`` (none: 403 "Not authenticated"; another: 401
"Invalid API key"); valves, filters and chat do not. Errors are FastAPI's ``{"detail": ...}``.
"""
from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import threading
import time
import types
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from tests.fakes.server import FakeUpstream, Received, Reply

PIPELINES_API_KEY = "0p3n-w3bu!"
"""The real server's default ``PIPELINES_API_KEY``."""
ROUTE_PREFIXES = ("", "/v1")


def _run(value: Any) -> Any:
    """A pipeline hook's result (the real server awaits its async hooks)."""
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


def _last_user_message(messages: list[dict]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return next((item["text"] for item in content if item.get("type") == "text"), None)
            return content
    return None


def _chunk(model: str, message: str) -> dict:
    """The real server's ``stream_message_template``."""
    return {"id": f"{model}-{uuid.uuid4()}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "delta": {"content": message}, "logprobs": None,
                                         "finish_reason": None}]}


class FakePipelines(FakeUpstream):
    def __init__(self, api_key: str = PIPELINES_API_KEY, files: dict[str, str] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.initial_files = dict(files or {})
        self.files: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        """Files that did not load (the real server moves them to ``failed/``)."""
        self.valves_json: dict[str, dict] = {}
        """Each module's saved valves (the real server's ``<module>/valves.json``)."""
        self.modules: dict[str, Any] = {}
        """Pipeline id -> the loaded ``Pipeline`` object (``PIPELINE_MODULES``)."""
        self.names: dict[str, str] = {}
        """Pipeline id -> its module (file) name (``PIPELINE_NAMES``)."""
        self._load_lock = threading.RLock()
        self._reload(dict(self.initial_files))
        for prefix in ROUTE_PREFIXES:
            self._routes(prefix)

    def reset(self) -> None:
        super().reset()
        self._reload(dict(self.initial_files), saved_valves={})

    # -- the pipelines directory -------------------------------------------------------------------
    def _load(self, module_name: str, source: str) -> Any:
        module = types.ModuleType(module_name)
        try:
            # dont_inherit: not this module's ``from __future__ import annotations`` (pydantic reads the annotations)
            exec(compile(source, f"{module_name}.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
            return module.Pipeline()
        except Exception:  # noqa: BLE001  (the real server moves a file that does not load aside)
            self.failed[f"{module_name}.py"] = self.files.pop(f"{module_name}.py")
            return None

    def _reload(self, files: dict[str, str] | None = None, saved_valves: dict[str, dict] | None = None) -> None:
        """The real server's ``reload``: shut every pipeline down, then load the directory afresh."""
        with self._load_lock:
            for pipeline in self.modules.values():
                if hasattr(pipeline, "on_shutdown"):
                    _run(pipeline.on_shutdown())
            if files is not None:
                self.files = files
            if saved_valves is not None:
                self.valves_json = saved_valves
            self.modules, self.names = {}, {}
            for filename, source in sorted(self.files.items()):
                module_name = filename[:-3]
                pipeline = self._load(module_name, source)
                if pipeline is None:
                    continue
                if hasattr(pipeline, "valves"):
                    pipeline.valves = pipeline.valves.__class__(
                        **{**pipeline.valves.model_dump(), **self.valves_json.get(module_name, {})})
                pipeline_id = getattr(pipeline, "id", module_name)
                self.modules[pipeline_id] = pipeline
                self.names[pipeline_id] = module_name
            for pipeline in self.modules.values():
                if hasattr(pipeline, "on_startup"):
                    _run(pipeline.on_startup())

    def pipelines(self) -> dict[str, dict]:
        """The real server's ``get_all_pipelines``: a manifold's pipes, filters, plain pipes."""
        found: dict[str, dict] = {}
        for pipeline_id, pipeline in self.modules.items():
            kind = getattr(pipeline, "type", "pipe")
            valves = getattr(pipeline, "valves", None)
            if kind == "manifold":
                listed = pipeline.pipelines() if callable(pipeline.pipelines) else pipeline.pipelines
                for item in listed:
                    name = f"{pipeline.name}{item['name']}" if hasattr(pipeline, "name") else item["name"]
                    found[f"{pipeline_id}.{item['id']}"] = {"module": pipeline_id, "type": kind,
                                                            "id": f"{pipeline_id}.{item['id']}", "name": name,
                                                            "valves": valves}
            elif kind == "filter":
                found[pipeline_id] = {"module": pipeline_id, "type": kind, "id": pipeline_id,
                                      "name": getattr(pipeline, "name", pipeline_id),
                                      "pipelines": getattr(valves, "pipelines", []),
                                      "priority": getattr(valves, "priority", 0), "valves": valves}
            else:
                found[pipeline_id] = {"module": pipeline_id, "type": kind, "id": pipeline_id,
                                      "name": getattr(pipeline, "name", pipeline_id), "valves": valves}
        return found

    # -- the routes ------------------------------------------------------------------------------
    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"detail": message}, status)

    def _refused(self, request: Received, reply: Reply) -> bool:
        """FastAPI's ``HTTPBearer`` and the server's key check, on the routes that have them."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self.error(reply, 403, "Not authenticated")
            return True
        if auth[len("Bearer "):] != self.api_key:
            self.error(reply, 401, "Invalid API key")
            return True
        return False

    def _routes(self, prefix: str) -> None:
        @self.route("GET", prefix + "/models")
        def models(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            data = []
            for pipeline in self.pipelines().values():
                info: dict[str, Any] = {"type": pipeline["type"]}
                if pipeline["type"] == "filter":
                    info.update(pipelines=getattr(pipeline["valves"], "pipelines", []) if pipeline["valves"] else [],
                                priority=pipeline.get("priority", 0))
                info["valves"] = pipeline["valves"] is not None
                data.append({"id": pipeline["id"], "name": pipeline["name"], "object": "model",
                             "created": int(time.time()), "owned_by": "openai", "pipeline": info})
            reply.json({"data": data, "object": "list", "pipelines": True})

        @self.route("GET", prefix + "/pipelines")
        def list_pipelines(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            reply.json({"data": [{"id": pipeline_id, "name": self.names[pipeline_id],
                                  "type": getattr(pipeline, "type", "pipe"), "valves": hasattr(pipeline, "valves")}
                                 for pipeline_id, pipeline in self.modules.items()]})

        @self.route("POST", prefix + "/pipelines/add")
        def add(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            url = (request.body or {}).get("url", "")
            filename = os.path.basename(url.split("?")[0])
            if not filename.endswith(".py"):
                return self.error(reply, 400, "URL must point to a Python file")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    source = answer.read().decode()
            except OSError:
                return self.error(reply, 400, "Failed to download file")
            self._reload({**self.files, filename: source})
            reply.json({"status": True, "detail": f"Pipeline added successfully from ./pipelines/{filename}"})

        @self.route("POST", prefix + "/pipelines/upload")
        def upload(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            text = request.body if isinstance(request.body, str) else ""
            found = re.search(r'name="file"; filename="([^"]*)"\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--', text, re.S)
            if found is None:
                return self.error(reply, 422, "file: Field required")
            filename, source = found.groups()
            if os.path.splitext(filename)[1] != ".py":
                return self.error(reply, 400, "Only Python files are allowed.")
            self._reload({**self.files, filename: source})
            reply.json({"status": True, "detail": f"Pipeline uploaded successfully to ./pipelines/{filename}"})

        @self.route("DELETE", prefix + "/pipelines/delete")
        def delete(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            pipeline_id = (request.body or {}).get("id", "")
            if pipeline_id not in self.modules:  # the real server's KeyError: an unhandled 500
                return reply.body(b"Internal Server Error", "text/plain; charset=utf-8", 500)
            module_name = self.names.get(pipeline_id.split(".")[0])
            if f"{module_name}.py" not in self.files:
                return self.error(reply, 404, f"Pipeline {pipeline_id} not found")
            self._reload({name: source for name, source in self.files.items() if name != f"{module_name}.py"})
            reply.json({"status": True, "detail": f"Pipeline {pipeline_id} deleted successfully"})

        @self.route("POST", prefix + "/pipelines/reload")
        def reload(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            self._reload()
            reply.json({"message": "Pipelines reloaded successfully."})

        @self.route("GET", prefix + r"/(?P<id>[^/]+)/valves")
        def valves(request: Received, reply: Reply) -> None:
            pipeline = self._with_valves(request, reply)
            if pipeline is not None:
                reply.json(pipeline.valves.model_dump())

        @self.route("GET", prefix + r"/(?P<id>[^/]+)/valves/spec")
        def valves_spec(request: Received, reply: Reply) -> None:
            pipeline = self._with_valves(request, reply)
            if pipeline is not None:
                reply.json(pipeline.valves.model_json_schema())

        @self.route("POST", prefix + r"/(?P<id>[^/]+)/valves/update")
        def update_valves(request: Received, reply: Reply) -> None:
            pipeline = self._with_valves(request, reply)
            if pipeline is None:
                return
            try:
                pipeline.valves = pipeline.valves.__class__(**(request.body or {}))
                self.valves_json[self.names[_pipeline_id(request)]] = pipeline.valves.model_dump()
                if hasattr(pipeline, "on_valves_updated"):
                    _run(pipeline.on_valves_updated())
            except Exception as exc:  # noqa: BLE001  (the real server answers any failure as a 500)
                return self.error(reply, 500, str(exc))
            reply.json(pipeline.valves.model_dump())

        for stage in ("inlet", "outlet"):
            self.route("POST", prefix + rf"/(?P<id>[^/]+)/filter/{stage}")(
                lambda request, reply, stage=stage: self._filter(request, reply, stage))

        @self.route("POST", prefix + "/chat/completions")
        def chat_completions(request: Received, reply: Reply) -> None:
            self._chat(request.body if isinstance(request.body, dict) else {}, reply)

    def _with_valves(self, request: Received, reply: Reply) -> Any:
        pipeline_id = _pipeline_id(request)
        if pipeline_id not in self.modules:
            return self.error(reply, 404, f"Pipeline {pipeline_id} not found")
        pipeline = self.modules[pipeline_id]
        if not hasattr(pipeline, "valves"):
            return self.error(reply, 404, f"Valves for {pipeline_id} not found")
        return pipeline

    def _filter(self, request: Received, reply: Reply, stage: str) -> None:
        pipeline_id, form = _pipeline_id(request), request.body
        if not isinstance(form, dict) or not isinstance(form.get("body"), dict):
            return self.error(reply, 422, "body: Field required")
        pipelines = self.pipelines()
        if pipeline_id not in pipelines:
            return self.error(reply, 404, f"Filter {pipeline_id} not found")
        target = pipelines.get(form["body"].get("model"))
        if target is not None and target["type"] == "manifold":
            pipeline_id = pipeline_id.split(".")[0]
        pipeline, body = self.modules[pipeline_id], copy.deepcopy(form["body"])  # the request log keeps what came
        try:
            hook = getattr(pipeline, stage, None)
            reply.json(_run(hook(body, form.get("user"))) if hook else body)
        except Exception as exc:  # noqa: BLE001  (the real server answers any failure as a 500)
            self.error(reply, 500, str(exc))

    def _chat(self, form: dict, reply: Reply) -> None:
        messages = form.get("messages")
        if not form.get("model") or not isinstance(messages, list) or not all(
                isinstance(m, dict) and "role" in m and "content" in m for m in messages):
            return self.error(reply, 422, "model and messages (role, content) are required")
        model, pipelines = form["model"], self.pipelines()
        if model not in pipelines or pipelines[model]["type"] == "filter":
            return self.error(reply, 404, f"Pipeline {model} not found")
        pipeline_id = model
        if pipelines[model]["type"] == "manifold":
            manifold_id, pipeline_id = model.split(".", 1)
            pipe = self.modules[manifold_id].pipe
        else:
            pipe = self.modules[pipeline_id].pipe
        answer = pipe(user_message=_last_user_message(messages), model_id=pipeline_id, messages=messages,
                      body={"stream": True, **form})
        if form.get("stream", True):
            return reply.stream(_sse(model, answer), "text/event-stream; charset=utf-8")
        if isinstance(answer, dict):
            return reply.json(answer)
        if isinstance(answer, BaseModel):
            return reply.json(answer.model_dump())
        text = answer if isinstance(answer, str) else "".join(answer) if isinstance(answer, types.GeneratorType) else ""
        reply.json({"id": f"{model}-{uuid.uuid4()}", "object": "chat.completion", "created": int(time.time()),
                    "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                 "logprobs": None, "finish_reason": "stop"}]})


def _pipeline_id(request: Received) -> str:
    path = request.path[len("/v1"):] if request.path.startswith("/v1/") else request.path
    return path.split("/")[1]


def _sse(model: str, answer: Any) -> Iterator[bytes]:
    """The real server's ``stream_content``: a string or the lines of a generator as chunks, then the finish chunk
    and ``data: [DONE]`` (without a blank line after it, as the real server ends)."""
    if isinstance(answer, str):
        yield f"data: {json.dumps(_chunk(model, answer))}\n\n".encode()
    if isinstance(answer, Iterator):
        for line in answer:
            if isinstance(line, BaseModel):
                line = f"data: {line.model_dump_json()}"
            elif isinstance(line, dict):
                line = f"data: {json.dumps(line)}"
            if isinstance(line, bytes):
                line = line.decode()
            if isinstance(line, str) and line.startswith("data:"):
                yield f"{line}\n\n".encode()
            else:
                yield f"data: {json.dumps(_chunk(model, line))}\n\n".encode()
    if isinstance(answer, (str, types.GeneratorType)):
        finish = {"id": f"{model}-{uuid.uuid4()}", "object": "chat.completion.chunk", "created": int(time.time()),
                  "model": model, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(finish)}\n\n".encode()
        yield b"data: [DONE]"
