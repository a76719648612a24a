"""``switchyard backup`` / ``switchyard restore``: one archive with the database (chats, users, config, the
vector store's chunks), the uploaded files, large job results and the generated secret key.

A backup is taken while the service runs: the database first, as one consistent snapshot (SQLite's backup
API, or ``pg_dump``), then the files, so every file a row of the snapshot names is there (one deleted in
between is skipped; one uploaded since is extra). Redis holds nothing to keep: a job queued at backup time
is restored ``queued`` and the sweep sends it again. A restore goes into an empty database and data directory
of the same kind (SQLite or PostgreSQL), then migrates to the newest revision.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from shared.config import Settings, get_settings
from shared.db import get_engine
from shared.jobs.results import RESULTS_DIR
from shared.storage import get_storage

FORMAT = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads"
SECRET_KEY_FILE = ".webui_secret_key"


class BackupError(Exception):
    """A backup or restore that cannot be done as asked (the message says why)."""


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.uses_sqlite else "postgresql"


def _database_file(kind: str) -> str:
    return "database.sqlite" if kind == "sqlite" else "database.pgdump"


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[-1])


def _pg_environment(settings: Settings) -> dict[str, str]:
    """libpq's variables for the configured database: its password stays out of the command line."""
    url = make_url(settings.database_url)
    parts = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
             "PGDATABASE": url.database}
    env = os.environ.copy()  # handed to the child process, not read
    env.update({name: str(value) for name, value in parts.items() if value is not None})
    return env


def _run(command: list[str], settings: Settings) -> None:
    done = subprocess.run(command, env=_pg_environment(settings), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def dump_database(settings: Settings, target: Path) -> None:
    """The database written to ``target`` as one consistent snapshot (also what admins download)."""
    if settings.uses_sqlite:
        source, copy = sqlite3.connect(_sqlite_path(settings)), sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step, under one read transaction: a consistent copy
        finally:
            copy.close()
            source.close()
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], settings)


def _add_stream(archive: tarfile.TarFile, name: str, stream) -> None:
    stream.seek(0, os.SEEK_END)
    info = tarfile.TarInfo(name)
    info.size, info.mtime = stream.tell(), int(time.time())
    stream.seek(0)
    archive.addfile(info, stream)


def backup(target: Path) -> dict:
    """Write the archive ``target`` (``.tar.gz``); returns its manifest."""
    settings = get_settings()
    kind = _kind(settings)
    storage = get_storage()
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(target, "w:gz") as archive:
        dump = Path(scratch) / _database_file(kind)
        dump_database(settings, dump)
        archive.add(dump, dump.name)
        copied = 0
        for key in storage.keys():
            try:
                with storage.open(key) as stream:
                    _add_stream(archive, f"{UPLOADS}/{key}", stream)
                copied += 1
            except FileNotFoundError:  # deleted since the snapshot
                continue
        for extra in (RESULTS_DIR, SECRET_KEY_FILE):
            if (settings.data_dir / extra).exists():
                archive.add(settings.data_dir / extra, extra)
        manifest = {"format": FORMAT, "database": kind, "files": copied, "created_at": int(time.time()),
                    "secret_key_included": (settings.data_dir / SECRET_KEY_FILE).exists()}
        with tempfile.TemporaryFile() as stream:
            stream.write(json.dumps(manifest, indent=2).encode())
            _add_stream(archive, MANIFEST, stream)
    return manifest


def _require_empty(settings: Settings) -> None:
    tables = inspect(get_engine()).get_table_names()
    if tables:
        raise BackupError(f"the database is not empty ({len(tables)} tables): restore into a new one")
    if get_storage().keys():
        raise BackupError("the upload directory is not empty: restore into a new data directory")


def restore(source: Path) -> dict:
    """Restore the archive ``source`` into the configured (empty) database and data directory (the caller
    migrates it afterwards, for a backup of an older version)."""
    settings = get_settings()
    kind = _kind(settings)
    with tarfile.open(source, "r:gz") as archive, tempfile.TemporaryDirectory() as scratch:
        try:
            manifest = json.load(archive.extractfile(MANIFEST))
        except (KeyError, TypeError, ValueError):
            raise BackupError(f"{source} is not a Switchyard backup (no readable {MANIFEST})") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        if manifest["database"] != kind:
            raise BackupError(f"the backup holds a {manifest['database']} database; this deployment uses {kind}")
        _require_empty(settings)
        archive.extractall(scratch, filter="data")
        extracted = Path(scratch)
        _load_database(settings, extracted / _database_file(kind))
        storage = get_storage()
        uploads = extracted / UPLOADS
        for path in sorted(uploads.iterdir()) if uploads.exists() else ():
            with open(path, "rb") as stream:
                storage.save(stream, path.name)
        if (extracted / RESULTS_DIR).exists():
            shutil.copytree(extracted / RESULTS_DIR, settings.data_dir / RESULTS_DIR, dirs_exist_ok=True)
        if (extracted / SECRET_KEY_FILE).exists():  # the key the stored secrets were encrypted with
            shutil.copy2(extracted / SECRET_KEY_FILE, settings.data_dir / SECRET_KEY_FILE)
    return manifest


def _load_database(settings: Settings, dump: Path) -> None:
    if settings.uses_sqlite:
        get_engine().dispose()
        source, target = sqlite3.connect(dump), sqlite3.connect(_sqlite_path(settings))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        database = make_url(settings.database_url).database
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={database}", str(dump)],
             settings)
