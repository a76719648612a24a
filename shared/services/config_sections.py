"""The admin settings of Open WebUI's ``/api/v1/configs/*`` and ``/api/v1/chats/config`` that are stored and read
back by their API field names: direct connections and the base-model cache, code execution and the code
interpreter, sub-agents, interface visibility, prompt suggestions, chat context compaction and tool search.
Each :class:`Section` maps its fields to config keys with Open WebUI's defaults; the features that act on them
read the same keys (``code_execution.*`` by the code-execution job, ``direct.enable`` by ``/api/config``)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shared.services import app_config


@dataclass(frozen=True)
class Section:
    fields: Mapping[str, tuple[str, Any]]
    """API field -> (config key, default)."""
    secrets: frozenset[str] = frozenset()
    """Fields stored encrypted (read back in clear by admins)."""
    normalize: Callable[[dict], dict] = field(default=lambda values: values)
    """Applied to a form before it is stored (ranges, clean-up), as Open WebUI does on save."""

    @property
    def keys(self) -> dict[str, str]:
        return {name: key for name, (key, _default) in self.fields.items()}


CONNECTIONS = Section({
    "ENABLE_DIRECT_CONNECTIONS": ("direct.enable", False),
    "ENABLE_DIRECT_INTEGRATIONS": ("direct.integrations.enable", False),
    "ENABLE_BASE_MODELS_CACHE": ("models.base_models_cache", False),
})

CODE_EXECUTION = Section({
    "ENABLE_CODE_EXECUTION": ("code_execution.enable", False),
    "CODE_EXECUTION_ENGINE": ("code_execution.engine", "pyodide"),
    "CODE_EXECUTION_JUPYTER_URL": ("code_execution.jupyter.url", ""),
    "CODE_EXECUTION_JUPYTER_AUTH": ("code_execution.jupyter.auth", ""),
    "CODE_EXECUTION_JUPYTER_AUTH_TOKEN": ("code_execution.jupyter.auth_token", ""),
    "CODE_EXECUTION_JUPYTER_AUTH_PASSWORD": ("code_execution.jupyter.auth_password", ""),
    "CODE_EXECUTION_JUPYTER_TIMEOUT": ("code_execution.jupyter.timeout", 60),
    "ENABLE_CODE_INTERPRETER": ("code_interpreter.enable", False),
    "CODE_INTERPRETER_ENGINE": ("code_interpreter.engine", "pyodide"),
    "CODE_INTERPRETER_PROMPT_TEMPLATE": ("code_interpreter.prompt_template", ""),
    "CODE_INTERPRETER_JUPYTER_URL": ("code_interpreter.jupyter.url", ""),
    "CODE_INTERPRETER_JUPYTER_AUTH": ("code_interpreter.jupyter.auth", ""),
    "CODE_INTERPRETER_JUPYTER_AUTH_TOKEN": ("code_interpreter.jupyter.auth_token", ""),
    "CODE_INTERPRETER_JUPYTER_AUTH_PASSWORD": ("code_interpreter.jupyter.auth_password", ""),
    "CODE_INTERPRETER_JUPYTER_TIMEOUT": ("code_interpreter.jupyter.timeout", 60),
}, secrets=frozenset({"CODE_EXECUTION_JUPYTER_AUTH_TOKEN", "CODE_EXECUTION_JUPYTER_AUTH_PASSWORD",
                      "CODE_INTERPRETER_JUPYTER_AUTH_TOKEN", "CODE_INTERPRETER_JUPYTER_AUTH_PASSWORD"}))

SUBAGENTS = Section({
    "ENABLE_SUBAGENTS": ("subagents.enable", False),
    "SUBAGENTS_BACKGROUND_ENABLED": ("subagents.background_enabled", False),
    "SUBAGENTS_MAX_CONCURRENT": ("subagents.max_concurrent", 20),
    "SUBAGENTS_MAX_ASYNC": ("subagents.max_async", 20),
    "SUBAGENTS_MAX_ITERATIONS": ("subagents.max_iterations", 30),
    "SUBAGENTS_MAX_OUTPUT": ("subagents.max_output", 30000),
    "SUBAGENTS_SYSTEM_PROMPT": ("subagents.system_prompt", ""),
})


def _chat_normalized(form: dict) -> dict:
    """Open WebUI's clean-up on save: the threshold and cap at least 1, retention within 10..50 %."""
    threshold = max(1, int(form.get("CONTEXT_COMPACTION_TOKEN_THRESHOLD") or 80000))
    return {
        **form,
        "CONTEXT_COMPACTION_MODEL": form.get("CONTEXT_COMPACTION_MODEL") or "",
        "CONTEXT_COMPACTION_TOKEN_THRESHOLD": threshold,
        "CONTEXT_COMPACTION_TOKEN_CAP": max(1, int(form.get("CONTEXT_COMPACTION_TOKEN_CAP") or threshold)),
        "CONTEXT_COMPACTION_RETENTION_PERCENTAGE": min(50, max(10, int(
            form.get("CONTEXT_COMPACTION_RETENTION_PERCENTAGE") or 40))),
        "TOOL_SEARCH_DEFER_THRESHOLD": max(0, int(form.get("TOOL_SEARCH_DEFER_THRESHOLD") or 0)),
        "TOOL_SEARCH_ALWAYS_LOADED": [item.strip() for item in form.get("TOOL_SEARCH_ALWAYS_LOADED") or []
                                      if item.strip()],
    }


CHAT = Section({
    "CONTEXT_COMPACTION_MODEL": ("chat.context_compaction.model", ""),
    "ENABLE_CONTEXT_COMPACTION": ("chat.context_compaction.enable", False),
    "CONTEXT_COMPACTION_TOKEN_THRESHOLD": ("chat.context_compaction.token_threshold", 80000),
    "CONTEXT_COMPACTION_TOKEN_CAP": ("chat.context_compaction.token_cap", 80000),
    "CONTEXT_COMPACTION_RETENTION_PERCENTAGE": ("chat.context_compaction.retention_percentage", 40),
    "CONTEXT_COMPACTION_PROMPT_TEMPLATE": ("chat.context_compaction.prompt_template", ""),
    "ENABLE_TOOL_PERMISSIONS": ("chat.tool_permissions.enable", False),
    "ENABLE_TOOL_SEARCH": ("chat.tool_search.enable", False),
    "TOOL_SEARCH_DEFER_THRESHOLD": ("chat.tool_search.defer_threshold", 400),
    "TOOL_SEARCH_ALWAYS_LOADED": ("chat.tool_search.always_loaded", []),
    "TOOL_SEARCH_DEFER_BUILTIN_TOOLS": ("chat.tool_search.defer_builtin_tools", True),
}, normalize=_chat_normalized)

SECTIONS = (CONNECTIONS, CODE_EXECUTION, SUBAGENTS, CHAT)
VISIBILITY, SUGGESTIONS, SUGGESTIONS_I18N = "ui.visibility", "ui.prompt_suggestions", "ui.prompt_suggestions_i18n"

CONFIG_DEFAULTS: dict[str, Callable[[Any], Any]] = {
    **{key: (lambda _s, value=value: value) for section in SECTIONS for key, value in section.fields.values()},
    VISIBILITY: lambda _s: {},
    SUGGESTIONS_I18N: lambda _s: {},
}


def read(session: Session, section: Section) -> dict[str, Any]:
    return app_config.get_fields(session, section.keys, section.secrets)


def update(session: Session, section: Section, form: dict[str, Any]) -> dict[str, Any]:
    """Store the form's fields (others keep their values); the section as it is now."""
    app_config.set_fields(session, section.keys, section.normalize(form), section.secrets)
    return read(session, section)


def set_visibility(session: Session, visibility: dict[str, bool]) -> dict[str, Any]:
    """Which parts of the web app's interface are shown (Open WebUI's ``ui.visibility``)."""
    app_config.set_many(session, {VISIBILITY: visibility})
    return {"visibility": app_config.get(session, VISIBILITY)}


def set_suggestions(session: Session, suggestions: list[dict] | None, i18n: dict | None) -> dict[str, Any]:
    """The prompt suggestions the chat page offers (and their translations)."""
    app_config.set_many(session, {SUGGESTIONS: suggestions, SUGGESTIONS_I18N: i18n or {}})
    values = app_config.get_many(session, [SUGGESTIONS, SUGGESTIONS_I18N])
    return {"suggestions": values[SUGGESTIONS], "i18n": values[SUGGESTIONS_I18N]}
