"""What Open WebUI derives from a module without calling it: its frontmatter, and each public method's
OpenAI function spec (from the signature, the type hints and the reST docstring). Runs in the child process."""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

FRONTMATTER_LINE = re.compile(r"^\s*([a-z_]+):\s*(.*)\s*$", re.IGNORECASE)
PARAM_LINE = re.compile(r":param (\w+):\s*(.*)")


def frontmatter(source: str) -> dict[str, str]:
    """The ``key: value`` lines of the module's opening docstring (title, author, version, requirements ...)."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != '"""':
        return {}
    found: dict[str, str] = {}
    for line in lines[1:]:
        if '"""' in line:
            break
        match = FRONTMATTER_LINE.match(line)
        if match:
            found[match.group(1).strip()] = match.group(2).strip()
    return found


def description(docstring: str | None) -> str:
    """The docstring's text before its ``:param`` / ``:return`` lines."""
    kept = []
    for line in (docstring or "").strip().splitlines():
        line = line.strip()
        if line.startswith((":param", ":return")):
            break
        kept.append(line)
    return "\n".join(kept)


def param_descriptions(docstring: str | None) -> dict[str, str]:
    """``:param name: text`` of each parameter (continuation lines joined; ``__`` parameters left out)."""
    found: dict[str, str] = {}
    current = None
    for line in (docstring or "").splitlines():
        line = line.strip()
        match = PARAM_LINE.match(line)
        if match:
            name, text = match.groups()
            current = None if name.startswith("__") else name
            if current:
                found[current] = text
        elif line.startswith(":") or not line:
            current = None
        elif current:
            found[current] += f" {line}"
    return found


def public_methods(instance: object) -> list[Callable]:
    """The methods a model may call: public, callable, not classes (Open WebUI's rule)."""
    return [getattr(instance, name) for name in dir(instance)
            if not name.startswith("_") and callable(getattr(instance, name))
            and not inspect.isclass(getattr(instance, name))]


def _without_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_titles(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    return schema


def _cleaned(schema: dict) -> None:
    """Open WebUI's clean-up: an optional type as the type itself, no null default, a missing type a string."""
    if "anyOf" in schema:
        others = [t for t in schema["anyOf"] if t.get("type") != "null"]
        if len(others) == 1:
            schema.update(others[0])
            del schema["anyOf"]
        else:
            schema["anyOf"] = others
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    if "type" not in schema and "anyOf" not in schema and "properties" not in schema:
        schema["type"] = "string"
    for prop in (schema.get("properties") or {}).values():
        _cleaned(prop)
    if isinstance(schema.get("items"), dict):
        _cleaned(schema["items"])


def function_spec(method: Callable) -> dict:
    """The OpenAI function spec of one method; parameters named ``__x__`` (what Open WebUI injects) are left out."""
    from pydantic import Field, create_model

    hints = get_type_hints(method)
    documented = param_descriptions(method.__doc__)
    fields = {}
    for name, param in inspect.signature(method).parameters.items():
        if name.startswith("__") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = param.default if param.default is not param.empty else ...
        fields[name] = (hints.get(name, Any), Field(default, description=documented.get(name)))
    schema = _without_titles(create_model(method.__name__, **fields).model_json_schema())
    parameters = {"type": "object", "properties": schema.get("properties", {})}
    if schema.get("required"):
        parameters["required"] = schema["required"]
    spec = {"name": method.__name__, "description": description(method.__doc__), "parameters": parameters}
    _cleaned(spec["parameters"])
    return spec


def valves_spec(owner: object, name: str) -> dict | None:
    """The JSON schema of the module's ``Valves`` or ``UserValves`` (None when it has none)."""
    model = getattr(owner, name, None)
    return model.model_json_schema() if model is not None and hasattr(model, "model_json_schema") else None
