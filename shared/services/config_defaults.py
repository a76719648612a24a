"""The default of every admin-editable setting, gathered in one place from the areas that declare them.

Each area keeps its keys beside its rules (``CONFIG_DEFAULTS``: key -> a function of the process settings);
this list is the only place they are put together, so a key without an area here has no default.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.config import Settings
from shared.rag import config as rag_config
from shared.services import (
    app_config, audio, banners, config_sections, custom_models, evaluations, external_knowledge, images, ldap_auth,
    permissions, rate_limits, terminal_servers, tool_servers,
)
from shared.services.chats import reply_tasks, store
from shared.services.llm import connections, registry

AREAS: tuple[dict[str, Callable[[Settings], Any]], ...] = (
    app_config.CORE_DEFAULTS, banners.CONFIG_DEFAULTS, permissions.CONFIG_DEFAULTS, store.CONFIG_DEFAULTS,
    reply_tasks.CONFIG_DEFAULTS, connections.CONFIG_DEFAULTS, registry.CONFIG_DEFAULTS, rag_config.CONFIG_DEFAULTS,
    images.CONFIG_DEFAULTS, audio.CONFIG_DEFAULTS, evaluations.CONFIG_DEFAULTS, custom_models.CONFIG_DEFAULTS,
    tool_servers.CONFIG_DEFAULTS, ldap_auth.CONFIG_DEFAULTS, config_sections.CONFIG_DEFAULTS,
    terminal_servers.CONFIG_DEFAULTS, rate_limits.CONFIG_DEFAULTS, external_knowledge.CONFIG_DEFAULTS,
)
DEFAULTS: dict[str, Callable[[Settings], Any]] = {key: factory for area in AREAS for key, factory in area.items()}
