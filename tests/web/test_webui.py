"""The web app at /: install from a wheel, SPA fallback, caching, and API paths that stay JSON."""
from __future__ import annotations

import dataclasses
import shutil
import zipfile

import pytest

from shared import cli, webui_bundle
from shared.config import get_settings
from tests.helpers import WEBUI_INDEX, make_wheel


@pytest.fixture
def bundle(tmp_path):
    target = webui_bundle.install(wheel=make_wheel(tmp_path / "open_webui-0.12.4-py3-none-any.whl"))
    yield target
    shutil.rmtree(target, ignore_errors=True)


def test_without_bundle_root_explains_how_to_install(client):
    assert not webui_bundle.is_installed()
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"switchyard webui install" in response.data
    assert client.get("/c/some-chat").status_code == 404


def test_install_extracts_only_the_frontend(bundle):
    assert (bundle / "index.html").read_bytes() == WEBUI_INDEX
    assert (bundle / "_app/immutable/entry/app.abc123.js").is_file()
    assert not (bundle / "main.py").exists()
    assert not list(bundle.parent.glob("*.new"))


def wheel_without_the_web_app(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("open_webui/main.py", b"")
    return path


def test_install_refuses_a_wheel_without_the_web_app(tmp_path):
    wheel = wheel_without_the_web_app(tmp_path / "broken.whl")
    with pytest.raises(RuntimeError, match="index.html"):
        webui_bundle.install(wheel=wheel)
    assert not webui_bundle.is_installed()


def test_install_skips_members_that_escape_the_folder(tmp_path, bundle):
    wheel = make_wheel(tmp_path / "evil.whl", {"open_webui/frontend/../../escaped.txt": b"x"})
    webui_bundle.install(wheel=wheel)
    assert not (bundle.parent.parent / "escaped.txt").exists()
    assert not (bundle.parent / "escaped.txt").exists()


def test_cli_installs_from_a_given_wheel(tmp_path, capsys):
    try:
        cli.main(["webui", "install", "--wheel", str(make_wheel(tmp_path / "w.whl"))])
        assert webui_bundle.is_installed()
        assert "web app installed" in capsys.readouterr().out
    finally:
        shutil.rmtree(webui_bundle.bundle_dir(), ignore_errors=True)


@pytest.fixture
def settings_with(monkeypatch):
    """Run ``webui_bundle`` with some settings changed."""
    def change(**values):
        monkeypatch.setattr(webui_bundle, "get_settings", lambda: dataclasses.replace(get_settings(), **values))
    return change


def test_first_start_installs_from_webui_wheel_in_the_background(tmp_path, settings_with, capsys):
    settings_with(webui_wheel=make_wheel(tmp_path / "local.whl"))
    try:
        thread = webui_bundle.install_in_background()
        thread.join(timeout=30)
        assert (webui_bundle.bundle_dir() / "index.html").read_bytes() == WEBUI_INDEX
        assert webui_bundle.install_in_background() is None  # installed: nothing more to do
    finally:
        shutil.rmtree(webui_bundle.bundle_dir(), ignore_errors=True)
    assert "installing the Open WebUI web app in the background" in capsys.readouterr().out


def test_first_start_install_can_be_switched_off(tmp_path, settings_with):
    settings_with(webui_install=False, webui_wheel=make_wheel(tmp_path / "local.whl"))
    assert webui_bundle.install_in_background() is None
    assert not webui_bundle.is_installed()


def test_a_failed_first_start_install_only_says_so(tmp_path, settings_with, capsys):
    settings_with(webui_wheel=wheel_without_the_web_app(tmp_path / "broken.whl"))
    webui_bundle.install_in_background().join(timeout=30)
    assert not webui_bundle.is_installed()
    out = capsys.readouterr().out
    assert "the web app was not installed" in out and "switchyard webui install" in out


def test_spa_routes_serve_index_without_caching(client, bundle):
    for path in ("/", "/c/0b7f", "/auth", "/admin/settings/general"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.data == WEBUI_INDEX
        assert response.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_long(client, bundle):
    response = client.get("/_app/immutable/entry/app.abc123.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" not in client.get("/_app/version.json").headers["Cache-Control"]


def test_static_files_and_favicon(client, bundle):
    assert client.get("/static/favicon.png").data == b"\x89PNG fake"
    assert client.get("/favicon.png").data == b"\x89PNG fake"
    assert client.get("/favicon.ico").status_code == 404


def test_missing_assets_are_404_not_index(client, bundle):
    for path in ("/_app/immutable/chunks/gone.js", "/static/nothing.png", "/somewhere/app.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json() == {"detail": "Not Found"}


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api", "/ollama/api/nope", "/openai/nope", "/ws/nope", "/api/"])
def test_api_paths_stay_json_404(client, bundle, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not Found"}


def test_post_to_an_unknown_api_path_is_404_not_405(client, bundle):
    assert client.post("/api/v1/nothing", json={}).status_code == 404


def test_no_path_traversal(client, bundle):
    (bundle.parent / "secret.txt").write_text("secret")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/static/..%2f..%2fsecret.txt"):
        response = client.get(path)
        assert b"secret" not in response.data, path


def test_opensearch_and_manifest(client):
    response = client.get("/opensearch.xml", base_url="http://chat.example.com")
    assert response.mimetype == "application/xml"
    assert b"<ShortName>Open WebUI</ShortName>" in response.data
    assert b'template="http://chat.example.com/?q={searchTerms}"' in response.data
    manifest = client.get("/manifest.json").get_json()
    assert manifest["start_url"] == "/"
    assert manifest["icons"][0]["src"] == "/static/logo.png"


def test_cli_reports_a_bad_wheel_without_a_trace(tmp_path):
    not_a_zip = tmp_path / "open_webui-0.12.4-py3-none-any.whl"
    not_a_zip.write_text("not a wheel")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["webui", "install", "--wheel", str(not_a_zip)])
    assert "switchyard webui install:" in str(exit_.value.code)
    with pytest.raises(SystemExit) as missing:
        cli.main(["webui", "install", "--wheel", str(tmp_path / "nothing.whl")])
    assert "nothing.whl" in str(missing.value.code)
    assert not webui_bundle.is_installed()
