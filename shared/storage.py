"""Where uploaded files live: a small interface, a local directory under ``DATA_DIR`` by default.

Callers only see storage *keys* (strings stored in ``file.path``), never filesystem paths, so an
S3-compatible backend can replace the local one without touching them.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Protocol

from shared.config import env, get_settings

COPY_BLOCK = 1024 * 1024


class TooLarge(Exception):
    """The stream was longer than the allowed number of bytes (nothing is kept)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def save(self, stream: BinaryIO, name: str, max_bytes: int | None = None) -> StoredObject: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_all(self) -> None: ...

    def keys(self) -> list[str]:
        """Every stored key (what a backup copies)."""
        ...


def safe_filename(name: str, limit: int = 200) -> str:
    """The last path component of ``name`` with control and path characters removed (never empty)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:limit]
    return name or "file"


MAX_KEY_BYTES = 200
"""Well under the 255 bytes most filesystems (and object stores' path segments) allow one name."""


def storage_key(prefix: str, name: str) -> str:
    """``<prefix>_<name>`` with the name shortened (its extension kept) until the key fits in
    ``MAX_KEY_BYTES`` as UTF-8: a name of 200 characters can take 800 bytes."""
    room = MAX_KEY_BYTES - len(prefix.encode()) - 1
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    stem = stem.encode()[: max(room - len(suffix.encode()), 0)].decode(errors="ignore")  # whole characters
    return f"{prefix}_{stem + suffix or 'file'}"


class LocalStorage:
    """Files in one directory, each named ``<key>``; keys never contain a path separator."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise FileNotFoundError(key)
        return self.root / key

    def save(self, stream: BinaryIO, name: str, max_bytes: int | None = None) -> StoredObject:
        key = name
        path = self._path(key)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(path, "xb") as out:
                for block in iter(lambda: stream.read(COPY_BLOCK), b""):
                    size += len(block)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(key)
                    digest.update(block)
                    out.write(block)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def keys(self) -> list[str]:
        return sorted(entry.name for entry in self.root.iterdir() if entry.is_file() and not entry.name.startswith("."))

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except FileNotFoundError:
            return False

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def delete_all(self) -> None:
        for entry in self.root.iterdir():
            if entry.is_file():
                entry.unlink(missing_ok=True)
            elif entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)


def iter_bytes(storage: Storage, key: str, block: int = 64 * 1024) -> Iterator[bytes]:
    """A stored object's bytes in blocks (for streaming responses)."""
    with storage.open(key) as fh:
        yield from iter(lambda: fh.read(block), b"")


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    """The configured backend (``STORAGE_PROVIDER``: only ``local`` today; ``UPLOAD_DIR`` overrides the directory)."""
    provider = env("STORAGE_PROVIDER")
    if provider != "local":
        raise RuntimeError(f"unsupported STORAGE_PROVIDER {provider!r} (supported: local)")
    root = env("UPLOAD_DIR") or str(get_settings().data_dir / "uploads")
    return LocalStorage(Path(root))
