"""The admin-configured upstream connections: several Ollama and several OpenAI-compatible base URLs.

Stored in ``app_config`` under Open WebUI's keys (``ollama.enable``, ``ollama.base_urls``,
``ollama.api_configs``, ``openai.enable``, ``openai.api_base_urls``, ``openai.api_keys``,
``openai.api_configs``). Keys (``openai.api_keys`` and any ``key`` inside a per-connection config) are
stored encrypted with the secret key; the admin API shows them in clear, nobody else sees them.

Defaults come from the environment: ``ENABLE_OLLAMA_API``, ``OLLAMA_BASE_URLS`` (``;``-separated) or
``OLLAMA_BASE_URL`` (default ``http://localhost:11434``); ``ENABLE_OPENAI_API``,
``OPENAI_API_BASE_URLS`` / ``OPENAI_API_BASE_URL`` and ``OPENAI_API_KEYS`` / ``OPENAI_API_KEY`` (no
OpenAI connection unless a URL or key is given, so a bare install never calls out).
Per-connection config (``api_configs["<idx>"]``): ``enable``, ``prefix_id``, ``model_ids`` (allow-list),
``tags``, ``connection_type`` (``local``/``external``), ``key`` (Ollama), ``provider``, ``headers`` (extra
request headers, with Open WebUI's ``{{...}}`` placeholders: see :func:`custom_headers`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from string import punctuation
from urllib.parse import quote
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from shared.config import env
from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest, NotFound
from shared.models.user import User
from shared.redis_client import key
from shared.services import app_config

Kind = Literal["ollama", "openai"]

OLLAMA_KEYS = {"ENABLE_OLLAMA_API": "ollama.enable", "OLLAMA_BASE_URLS": "ollama.base_urls",
               "OLLAMA_API_CONFIGS": "ollama.api_configs"}
OPENAI_KEYS = {"ENABLE_OPENAI_API": "openai.enable", "OPENAI_API_BASE_URLS": "openai.api_base_urls",
               "OPENAI_API_KEYS": "openai.api_keys", "OPENAI_API_CONFIGS": "openai.api_configs"}


LLM_KEYS = (*OLLAMA_KEYS.values(), *OPENAI_KEYS.values(), "llm.timeout", "llm.model_list_timeout",
            "models.user_model_ids")
"""Everything a gateway request reads, fetched in one query per session (see :func:`settings`)."""


def _default_openai_urls() -> list[str]:
    urls = env("OPENAI_API_BASE_URLS")
    if not urls and any(key.strip() for key in env("OPENAI_API_KEYS")):
        urls = ["https://api.openai.com/v1"]
    return urls


def _default_openai_keys() -> list[str]:
    keys, urls = env("OPENAI_API_KEYS"), _default_openai_urls()
    return [encrypt(k.strip()) if k.strip() else "" for k in (keys + [""] * len(urls))[: len(urls)]]


CONFIG_DEFAULTS = {
    "ollama.enable": lambda _s: env("ENABLE_OLLAMA_API"),
    "ollama.base_urls": lambda _s: env("OLLAMA_BASE_URLS"),
    "ollama.api_configs": lambda _s: {},
    "openai.enable": lambda _s: env("ENABLE_OPENAI_API"),
    "openai.api_base_urls": lambda _s: _default_openai_urls(),
    "openai.api_keys": lambda _s: _default_openai_keys(),
    "openai.api_configs": lambda _s: {},
    "llm.timeout": lambda _s: env("AIOHTTP_CLIENT_TIMEOUT"),
    "llm.model_list_timeout": lambda _s: env("AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST"),
}


@dataclass(frozen=True)
class Connection:
    """One upstream base URL with its (decrypted) key and per-connection config."""

    kind: Kind
    idx: int
    url: str
    key: str | None
    config: dict = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("enable", True))

    @property
    def prefix_id(self) -> str | None:
        return self.config.get("prefix_id") or None

    def upstream_model(self, model_id: str) -> str:
        """The model's name at the upstream: our id without this connection's ``prefix_id.``."""
        prefix = self.prefix_id
        return model_id[len(prefix) + 1:] if prefix and model_id.startswith(f"{prefix}.") else model_id


HEADER_PLACEHOLDERS = ("CHAT_ID", "MESSAGE_ID", "USER_MESSAGE_ID", "USER_MESSAGE_PARENT_ID", "FILE_ID", "FILE_NAME",
                       "FILE_CONTENT_TYPE", "TASK", "MODEL_ID", "USER_ID", "USER_NAME", "USER_EMAIL", "USER_ROLE",
                       "USER_GROUPS", "USER_GROUP_IDS", "USER_AGENT", "AUTH_TYPE")
"""Open WebUI's placeholders in custom header values (``{{USER_ID}}`` ...). Those this request does not
know (groups, files, the user agent in a worker ...) become empty, as Open WebUI does."""


def custom_headers(conn: Connection, user: User | None = None, **context: str) -> dict[str, str]:
    """The connection's configured ``headers``, placeholders filled from ``user`` and ``context``
    (``chat_id``, ``message_id``, ``model_id``, ``task`` ...), values percent-encoded outside printable
    ASCII, as Open WebUI sends them. They are added after the key's ``Authorization`` and may replace it."""
    template = conn.config.get("headers")
    if not isinstance(template, dict) or not template:
        return {}
    values = {name: str(context.get(name.lower()) or "") for name in HEADER_PLACEHOLDERS}
    if user is not None:
        values.update(USER_ID=user.id, USER_NAME=(user.name or "").strip(), USER_EMAIL=(user.email or "").strip(),
                      USER_ROLE=user.role or "")
    headers = {}
    for name, value in template.items():
        text = str(value)
        for placeholder, filled in values.items():
            text = text.replace("{{" + placeholder + "}}", filled)
        # Surrounding whitespace means nothing in a header value (and an unfilled placeholder can leave some).
        headers[str(name)] = quote(text.strip(), safe=punctuation + " \t")
    return headers


def _reveal(cipher: str | None) -> str:
    return (decrypt(cipher) or "") if cipher else ""


def _configs_out(configs: dict) -> dict:
    out = copy.deepcopy(configs or {})
    for config in out.values():
        if isinstance(config, dict) and config.get("key"):
            config["key"] = _reveal(config["key"])
    return out


def _configs_in(configs: dict, count: int) -> dict:
    """Only configs for existing indexes (``"0"``, ``"1"`` ...), with keys encrypted."""
    valid = {str(i) for i in range(count)}
    kept = {k: copy.deepcopy(v) for k, v in (configs or {}).items() if k in valid and isinstance(v, dict)}
    for config in kept.values():
        if config.get("key"):
            config["key"] = encrypt(str(config["key"]))
    return kept


def _clean_urls(urls: list[Any]) -> list[str]:
    cleaned = [str(u).strip().rstrip("/") for u in urls]
    for url in cleaned:
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"Invalid URL: {url!r} (it must start with http:// or https://)")
    return cleaned


def settings(session: Session) -> dict[str, Any]:
    """The gateway's config values for this session (a request, a job): the process-wide copy (see
    :func:`cached_settings`), read through this session when it has to be read again."""
    if "llm_settings" not in session.info:
        session.info["llm_settings"] = cached_settings(session)
    return session.info["llm_settings"]


def store(session: Session, values: dict[str, Any]) -> None:
    """Save gateway config values; every process re-reads them once the transaction commits."""
    app_config.set_many(session, values)
    session.info.pop("llm_settings", None)
    session.info["llm_settings_changed"] = True


def _version_key() -> str:
    return key("llm", "config_version")


def install_listeners(factory: sessionmaker) -> None:
    """Announce committed connection changes from the factory's sessions."""
    event.listen(factory, "after_commit", _announce_change)


def _announce_change(session: Session) -> None:
    """Once a config change is committed, a new version tells every process's copy to re-read."""
    if session.info.pop("llm_settings_changed", False):
        _cached.announce()


_cached = app_config.CachedConfig(_version_key, LLM_KEYS)


def cached_settings(session: Session | None = None) -> dict[str, Any]:
    """The config values without a database round trip on the hot path: one copy per process, read
    again when the version in Redis changes (see :func:`store`) or after 30 seconds (``CachedConfig``)."""
    return _cached.get(session)


def ollama_config(session: Session) -> dict:
    values = app_config.get_many(session, OLLAMA_KEYS.values())
    return {
        "ENABLE_OLLAMA_API": values["ollama.enable"],
        "OLLAMA_BASE_URLS": values["ollama.base_urls"],
        "OLLAMA_API_CONFIGS": _configs_out(values["ollama.api_configs"]),
    }


def update_ollama_config(session: Session, enable: bool | None, urls: list[str], configs: dict) -> dict:
    urls = _clean_urls(urls)
    store(session, {
        "ollama.enable": enable, "ollama.base_urls": urls, "ollama.api_configs": _configs_in(configs, len(urls)),
    })
    return ollama_config(session)


def openai_config(session: Session) -> dict:
    values = app_config.get_many(session, OPENAI_KEYS.values())
    return {
        "ENABLE_OPENAI_API": values["openai.enable"],
        "OPENAI_API_BASE_URLS": values["openai.api_base_urls"],
        "OPENAI_API_KEYS": [_reveal(k) for k in values["openai.api_keys"]],
        "OPENAI_API_CONFIGS": _configs_out(values["openai.api_configs"]),
    }


def update_openai_config(session: Session, enable: bool | None, urls: list[str], keys: list[str],
                         configs: dict) -> dict:
    """Store the OpenAI connections; keys are padded or cut to one per URL, as Open WebUI does."""
    urls = _clean_urls(urls)
    keys = (list(keys) + [""] * len(urls))[: len(urls)]
    store(session, {
        "openai.enable": enable, "openai.api_base_urls": urls,
        "openai.api_keys": [encrypt(k) if k else "" for k in keys],
        "openai.api_configs": _configs_in(configs, len(urls)),
    })
    return openai_config(session)


def connections(session: Session, kind: Kind) -> list[Connection]:
    """Every configured connection of this kind (disabled ones too, see ``Connection.enabled``);
    none when the whole API is switched off."""
    return connections_in(settings(session), kind)


def connections_in(values: dict[str, Any], kind: Kind) -> list[Connection]:
    """:func:`connections` from already loaded config values."""
    if kind == "ollama":
        if not values["ollama.enable"]:
            return []
        configs = values["ollama.api_configs"] or {}
        return [
            Connection("ollama", i, url, _reveal(configs.get(str(i), {}).get("key")) or None,
                       {k: v for k, v in configs.get(str(i), {}).items() if k != "key"})
            for i, url in enumerate(values["ollama.base_urls"] or [])
        ]
    if not values["openai.enable"]:
        return []
    configs, keys = values["openai.api_configs"] or {}, values["openai.api_keys"] or []
    return [
        Connection("openai", i, url, _reveal(keys[i] if i < len(keys) else "") or None, configs.get(str(i), {}))
        for i, url in enumerate(values["openai.api_base_urls"] or [])
    ]


def connection(session: Session, kind: Kind, idx: int) -> Connection:
    """The enabled connection at ``idx``, else 404."""
    return connection_in(settings(session), kind, idx)


def connection_in(values: dict[str, Any], kind: Kind, idx: int) -> Connection:
    found = connections_in(values, kind)
    if not 0 <= idx < len(found) or not found[idx].enabled:
        label = "Ollama" if kind == "ollama" else "OpenAI"
        raise NotFound(f"{label} connection {idx} is not configured or not enabled.")
    return found[idx]


def timeouts(session: Session) -> tuple[float, float]:
    """Seconds to wait for an answer, and for a model list (``AIOHTTP_CLIENT_TIMEOUT[_MODEL_LIST]``)."""
    return timeouts_in(settings(session))


def timeouts_in(values: dict[str, Any]) -> tuple[float, float]:
    return float(values["llm.timeout"]), float(values["llm.model_list_timeout"])


def answer_timeout() -> float:
    """How long a job waits for an upstream's answer (``AIOHTTP_CLIENT_TIMEOUT``): model servers, and the
    image and speech engines, which answer as slowly."""
    return timeouts_in(cached_settings())[0]
