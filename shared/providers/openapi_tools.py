"""OpenAPI tool servers (Open WebUI's ``TOOL_SERVER_CONNECTIONS`` of type ``openapi``): the server's OpenAPI
document, each operation with an ``operationId`` as an OpenAI function spec (Open WebUI's conversion), and one
call of an operation with the model's arguments."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from shared.errors import BadRequest
from shared.providers.upstream import Upstream

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _server(url: str, key: str | None, timeout: float) -> Upstream:
    return Upstream("Tool server", url, {"Authorization": f"Bearer {key}"} if key else {}, timeout)


def document(url: str, path: str, key: str | None, timeout: float) -> dict:
    """The server's OpenAPI document (``path``: ``openapi.json`` unless configured)."""
    answer = _server(url, key, timeout).json("GET", path or "openapi.json")
    if not isinstance(answer, dict) or not isinstance(answer.get("paths"), dict):
        raise BadRequest("The tool server's answer is not an OpenAPI document.")
    return answer


def _resolved(schema: Any, components: dict, seen: frozenset = frozenset()) -> Any:
    """``schema`` with its ``$ref``s to ``#/components/schemas/...`` replaced (cycles left as they are)."""
    if isinstance(schema, list):
        return [_resolved(item, components, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return {}
        return _resolved((components.get("schemas") or {}).get(name, {}), components, seen | {name})
    return {k: _resolved(v, components, seen) for k, v in schema.items()}


def operations(spec: dict) -> dict[str, tuple[str, str, dict]]:
    """operationId -> (method, path, operation with its path-level parameters merged in)."""
    found = {}
    for path, methods in (spec.get("paths") or {}).items():
        if not isinstance(methods, dict):
            continue
        shared = [p for p in methods.get("parameters") or [] if isinstance(p, dict)]
        for method, operation in methods.items():
            if method in HTTP_METHODS and isinstance(operation, dict) and operation.get("operationId"):
                own = [p for p in operation.get("parameters") or [] if isinstance(p, dict)]
                merged = {(p.get("name"), p.get("in")): p for p in [*shared, *own] if p.get("name")}
                found[operation["operationId"]] = (method, path, {**operation, "parameters": list(merged.values())})
    return found


def function_specs(spec: dict) -> list[dict]:
    """Each operation as an OpenAI function spec, as Open WebUI converts it."""
    components = spec.get("components") or {}
    specs = []
    for name, (_method, _path, operation) in operations(spec).items():
        parameters: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for param in operation["parameters"]:
            schema = param.get("schema") or {}
            description = schema.get("description") or param.get("description") or ""
            if isinstance(schema.get("enum"), list):
                description += f". Possible values: {', '.join(str(v) for v in schema['enum'])}"
            prop = {"type": schema.get("type") or "string", "description": description}
            if schema.get("type") == "array" and "items" in schema:
                prop["items"] = schema["items"]
            parameters["properties"][param["name"]] = prop
            if param.get("required"):
                parameters["required"].append(param["name"])
        body = (((operation.get("requestBody") or {}).get("content") or {}).get("application/json") or {})
        body_schema = _resolved(body.get("schema"), components) if body.get("schema") else None
        if isinstance(body_schema, dict) and body_schema.get("properties"):
            parameters["properties"].update(body_schema["properties"])
            parameters["required"] = list(dict.fromkeys([*parameters["required"], *body_schema.get("required", [])]))
        specs.append({"name": name, "description": operation.get("description") or operation.get("summary")
                      or "No description available.", "parameters": parameters})
    return specs


def call(url: str, key: str | None, spec: dict, name: str, arguments: dict, timeout: float) -> Any:
    """Call operation ``name`` with ``arguments``: path and query parameters where the operation declares them,
    the rest as its JSON body."""
    found = operations(spec).get(name)
    if found is None:
        raise BadRequest(f"The tool server has no operation {name}.")
    method, path, operation = found
    args = dict(arguments)
    query = {}
    for param in operation["parameters"]:
        if param["name"] not in args:
            continue
        if param.get("in") == "path":
            path = path.replace("{" + param["name"] + "}", quote(str(args.pop(param["name"])), safe=""))
        elif param.get("in") == "query":
            query[param["name"]] = args.pop(param["name"])
    target = path + (f"?{urlencode(query, doseq=True)}" if query else "")
    has_body = bool(operation.get("requestBody")) and method not in ("get", "head", "delete")
    response = _server(url, key, timeout).send(method.upper(), target, args if has_body else None)
    data = response.data
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode("utf-8", errors="replace")
