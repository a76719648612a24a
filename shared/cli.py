"""``switchyard``: run the whole stack, apply migrations, and other operator commands."""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from contextlib import nullcontext
from pathlib import Path

from shared.config import ConfigError, get_settings

ROOT = Path(__file__).resolve().parent.parent


def alembic_config():
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def migrate() -> None:
    """Apply Alembic migrations up to the newest revision."""
    from alembic import command

    command.upgrade(alembic_config(), "head")


def migrate_vectors(source: str, target: str, collections: list[str], index_memory: str | None = None) -> dict[str, int]:
    """Copy collections (all when none are named) from one vector store to another, then remove them from
    the source, one collection per transaction; returns the chunks moved per collection. Into pgvector, the
    HNSW indexes are built once at the end (``index_memory`` is their build's ``maintenance_work_mem``)."""
    from shared.db import session_scope
    from shared.rag.vectors import make_store

    with session_scope() as session:
        source_store, target_store = make_store(source, session), make_store(target, session)
        names = collections or source_store.collections(session)
    if type(source_store) is type(target_store):
        raise ValueError(f"{source} and {target} are the same store here")
    bulk_load = getattr(target_store, "bulk_load", None)
    moved = {}
    with bulk_load(session_scope, index_memory) if bulk_load else nullcontext():
        for name in names:
            with session_scope() as session:
                chunks, vectors = source_store.export(session, name)
                target_store.delete(session, collection=name)
                if chunks:
                    target_store.add(session, name, chunks, vectors)
                source_store.delete(session, collection=name)
                moved[name] = len(chunks)
    return moved


def serve(processes: list[str]) -> int:
    """Migrate, make sure Redis is there, empty the metrics directory, then run the Procfile's processes together
    (honcho); a missing web app is installed meanwhile (``WEBUI_INSTALL``).

    An embedded Redis that this command started is saved and stopped when the processes end.
    """
    from shared import metrics, webui_bundle
    from shared.redis_client import ensure_embedded_redis, ping, shutdown_embedded_redis

    settings = get_settings()
    migrate()
    webui_bundle.install_in_background()
    env = os.environ.copy()
    socket = settings.embedded_redis_socket
    started_redis = settings.redis_url is None and not ping(f"unix://{socket}")
    env["REDIS_URL"] = settings.redis_url or ensure_embedded_redis(socket)
    env["DATA_DIR"] = str(settings.data_dir)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if metrics.enabled():  # one directory of metric samples for all the processes started here, emptied first
        metrics.wipe()
        env["METRICS_DIR"] = str(metrics.directory())
    env.setdefault("PORT", "8080")
    print(f"Switchyard: http://localhost:{env['PORT']}  (data in {settings.data_dir})", flush=True)
    honcho = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", "Procfile", *processes], env=env, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda *_: honcho.terminate())
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        return honcho.wait()
    finally:
        if started_redis:
            shutdown_embedded_redis(socket)


def backup_or_restore(command: str, archive: Path | None) -> int:
    """Run ``switchyard backup`` or ``restore`` and say what it did; a refusal is one line and status 1."""
    from shared import backup

    try:
        if command == "backup":
            archive = archive or Path(time.strftime("switchyard-backup-%Y%m%d-%H%M%S.tar.gz"))
            manifest = backup.backup(archive)
        else:
            manifest = backup.restore(archive)
            migrate()
    except (backup.BackupError, OSError, tarfile.TarError) as error:
        print(f"switchyard {command}: {error}", file=sys.stderr)
        return 1
    done = "backed up into" if command == "backup" else "restored from"
    print(f"{manifest['database']} database and {manifest['files']} files {done} {archive}")
    return 0


def _memory_size(value: str) -> str:
    """A PostgreSQL memory size such as ``512MB`` or ``4GB``."""
    if not re.fullmatch(r"\d+\s*(kB|MB|GB|TB)", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a size such as 512MB or 4GB")
    return value


def main(argv: list[str] | None = None) -> None:
    try:
        run(argv)
    except ConfigError as error:
        sys.exit(f"switchyard: {error}")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="switchyard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="migrate and run web, worker and scheduler together")
    serve_parser.add_argument("processes", nargs="*", default=["web", "worker", "scheduler"],
                              help="Procfile processes to run (default: web worker scheduler)")
    sub.add_parser("migrate", help="apply database migrations")
    backup_parser = sub.add_parser("backup", help="archive the database, uploaded files and secret key (while "
                                   "the service runs)")
    backup_parser.add_argument("archive", type=Path, nargs="?",
                               help="the .tar.gz to write (default: switchyard-backup-<time>.tar.gz here)")
    restore_parser = sub.add_parser("restore", help="restore a backup into an empty database and data directory")
    restore_parser.add_argument("archive", type=Path)
    webui_parser = sub.add_parser("webui", help="the Open WebUI web app served at /")
    webui_parser.add_argument("action", choices=["install"])
    webui_parser.add_argument("--wheel", type=Path, help="use this open-webui wheel instead of downloading it")
    vectors_parser = sub.add_parser("vectors", help="move collections between vector stores (VECTOR_DB)")
    vectors_parser.add_argument("action", choices=["migrate"])
    vectors_parser.add_argument("--from", dest="source", required=True, choices=["sql", "pgvector"])
    vectors_parser.add_argument("--to", dest="target", required=True, choices=["sql", "pgvector"])
    vectors_parser.add_argument("collections", nargs="*", help="collections to move (default: all)")
    vectors_parser.add_argument("--index-memory", type=_memory_size, metavar="SIZE",
                                help="into pgvector: memory for building its index at the end, e.g. 4GB "
                                     "(PostgreSQL's maintenance_work_mem; default: the server's)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        sys.exit(serve(args.processes))
    elif args.command == "migrate":
        migrate()
    elif args.command in ("backup", "restore"):
        sys.exit(backup_or_restore(args.command, args.archive))
    elif args.command == "vectors":
        try:
            moved = migrate_vectors(args.source, args.target, args.collections, args.index_memory)
        except ValueError as error:
            sys.exit(f"switchyard vectors migrate: {error}")
        for name, count in moved.items():
            print(f"{name}\t{count}")
    elif args.command == "webui":
        from shared import webui_bundle

        try:
            webui_bundle.install(wheel=args.wheel)
        except webui_bundle.INSTALL_ERRORS as error:
            sys.exit(f"switchyard webui install: {error}")


if __name__ == "__main__":
    main()
