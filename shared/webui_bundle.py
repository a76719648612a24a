"""The built Open WebUI web app (the ``open_webui/frontend/`` folder of its PyPI wheel) under ``DATA_DIR/webui``.

``switchyard webui install`` downloads the wheel without its dependencies and extracts only that folder, so
the browser client is the real, unmodified one; ``switchyard serve`` does the same on its first start, in the
background, unless ``WEBUI_INSTALL`` is off.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from shared.config import VERSION, get_settings

PACKAGE = "open-webui"
FRONTEND_PREFIX = "open_webui/frontend/"
INSTALL_ERRORS = (RuntimeError, OSError, zipfile.BadZipFile)
"""What a failed install raises: no PyPI, no such wheel, a wheel without the web app, a full disk."""


def bundle_dir() -> Path:
    """Where the web app lives (it may not be installed)."""
    return get_settings().data_dir / "webui"


def is_installed(directory: Path | None = None) -> bool:
    return ((directory or bundle_dir()) / "index.html").is_file()


def download_wheel(version: str, into: Path) -> Path:
    """``pip download --no-deps open-webui==<version>``; returns the wheel's path."""
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             f"{PACKAGE}=={version}", "-d", str(into)],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise RuntimeError(f"could not download {PACKAGE}=={version} with pip (is PyPI reachable?): {error}") from None
    wheels = sorted(into.glob("open_webui-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip downloaded no {PACKAGE} wheel into {into}")
    return wheels[0]


def extract_frontend(wheel: Path, target: Path) -> int:
    """Replace ``target`` with the wheel's ``open_webui/frontend/`` folder; returns the number of files."""
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.is_dir() or not member.filename.startswith(FRONTEND_PREFIX):
                continue
            relative = Path(member.filename[len(FRONTEND_PREFIX):])
            if relative.is_absolute() or ".." in relative.parts:
                continue
            destination = staging / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    if not is_installed(staging):
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"{wheel.name} holds no {FRONTEND_PREFIX}index.html")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return count


def install(version: str = VERSION, wheel: Path | None = None) -> Path:
    """Download (unless a wheel is given, or ``WEBUI_WHEEL`` names one) and extract the web app; returns the
    bundle directory."""
    wheel = wheel or get_settings().webui_wheel
    target = bundle_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="webui-wheel-") as tmp:
        count = extract_frontend(wheel or download_wheel(version, Path(tmp)), target)
    print(f"Open WebUI {version} web app installed: {count} files in {target}", flush=True)
    return target


def install_in_background() -> threading.Thread | None:
    """Install the missing web app while the API starts (``switchyard serve``); None when there is nothing to
    do. A failure only says so: the API works without the web app."""
    if not get_settings().webui_install or is_installed():
        return None

    def run() -> None:
        try:
            install()
        except INSTALL_ERRORS as error:
            print(f"Switchyard: the web app was not installed ({error}); the API works without it. "
                  "Install it later with: switchyard webui install", flush=True)

    print("Switchyard: installing the Open WebUI web app in the background (first start; WEBUI_INSTALL=false "
          "skips this)", flush=True)
    thread = threading.Thread(target=run, name="webui-install", daemon=True)
    thread.start()
    return thread
