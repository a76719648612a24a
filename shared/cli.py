"""``switchyard``: run the whole stack, apply migrations, and other operator commands."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
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


def serve(processes: list[str]) -> int:
    """Migrate, make sure Redis is there, then run the Procfile's processes together (honcho); a missing web
    app is installed meanwhile (``WEBUI_INSTALL``).

    An embedded Redis that this command started is saved and stopped when the processes end.
    """
    from shared import webui_bundle
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
    webui_parser = sub.add_parser("webui", help="the Open WebUI web app served at /")
    webui_parser.add_argument("action", choices=["install"])
    webui_parser.add_argument("--wheel", type=Path, help="use this open-webui wheel instead of downloading it")
    args = parser.parse_args(argv)
    if args.command == "serve":
        sys.exit(serve(args.processes))
    elif args.command == "migrate":
        migrate()
    elif args.command == "webui":
        from shared import webui_bundle

        try:
            webui_bundle.install(wheel=args.wheel)
        except webui_bundle.INSTALL_ERRORS as error:
            sys.exit(f"switchyard webui install: {error}")


if __name__ == "__main__":
    main()
