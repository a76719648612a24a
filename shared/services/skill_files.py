"""A skill's files as Open WebUI keeps them: virtual paths (``SKILL.md`` at the root holds the instructions,
any other file sits beside it, text or base64), checked on every write; packages read from JSON, ZIP,
``.skill`` or Markdown and written as ZIP. Nothing is ever extracted to disk."""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
import stat
import zipfile
from pathlib import PurePosixPath
from urllib.parse import quote, unquote, urlsplit

import yaml

from shared.errors import BadRequest

ROOT = "SKILL.md"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_SKILL_BYTES = 50 * 1024 * 1024
MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_FILES = 1000
MAX_ARCHIVE_ENTRIES = 10_000
FILE_KEYS = {"path", "content", "encoding"}
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def validate_path(path: object) -> str:
    """A relative POSIX path without empty, ``.`` or ``..`` parts."""
    if not isinstance(path, str) or not path or path.startswith("/") or any(c in path for c in "\\\x00:"):
        raise BadRequest("File paths must be relative POSIX paths")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise BadRequest("Invalid file path")
    return path


def file_bytes(file: dict) -> bytes:
    if file.get("encoding") == "base64":
        try:
            return base64.b64decode(file["content"], validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"Invalid base64 content: {file.get('path')}") from None
    return file["content"].encode("utf-8")


def encode_file(path: str, data: bytes) -> dict:
    """A file as stored: UTF-8 text as it is, anything else in base64."""
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content = None
    if content is None or "\x00" in content:
        return {"path": path, "content": base64.b64encode(data).decode("ascii"), "encoding": "base64"}
    return {"path": path, "content": content}


def _file(item: object) -> dict:
    """Open WebUI's ``SkillFile``: ``path``, ``content`` and an optional ``encoding`` (``base64``), nothing else."""
    if not isinstance(item, dict) or set(item) - FILE_KEYS:
        raise BadRequest("Each file needs a path and content only (and an optional encoding)")
    if not isinstance(item.get("path"), str) or not isinstance(item.get("content"), str):
        raise BadRequest("Each file needs a path and content only (and an optional encoding)")
    if item.get("encoding") not in (None, "base64"):
        raise BadRequest("A file's encoding is base64 or none")
    return {key: value for key, value in item.items() if value is not None}


def validate_files(files: list, previous: list[dict] | None = None) -> list[dict]:
    """``files`` checked and sorted by path: unique relative paths, no file that is also a directory, a UTF-8
    ``SKILL.md`` at the root, within the size limits (a skill already beyond them may keep its size)."""
    result, paths, total = [], set(), 0
    before = {f["path"]: f for f in previous or []}
    if not isinstance(files, list) or len(files) > max(MAX_FILES, len(before)):
        raise BadRequest(f"A skill may contain at most {MAX_FILES} files")
    for item in files:
        file = _file(item)
        path = validate_path(file["path"])
        if path in paths:
            raise BadRequest(f"Duplicate file: {path}")
        paths.add(path)
        size = len(file_bytes(file))
        if size > max(MAX_FILE_BYTES, len(file_bytes(before[path])) if path in before else 0):
            raise BadRequest(f"File exceeds 10 MiB: {path}")
        total += size
        result.append(file)
    if total > max(MAX_SKILL_BYTES, sum(len(file_bytes(f)) for f in before.values())):
        raise BadRequest("Skill exceeds 50 MiB")
    for path in paths:
        if any(str(parent) in paths for parent in PurePosixPath(path).parents if str(parent) != "."):
            raise BadRequest(f"A file is also used as a directory: {path}")
    root = next((f for f in result if f["path"] == ROOT), None)
    if root is None or root.get("encoding"):
        raise BadRequest("A skill requires a UTF-8 SKILL.md at its root")
    return sorted(result, key=lambda f: f["path"])


def root_content(files: list[dict]) -> str:
    return next(f["content"] for f in files if f["path"] == ROOT)


def apply_operations(files: list[dict], operations: list[dict]) -> list[dict]:
    """``files`` after ``put`` (write a file), ``move`` (a file or directory) and ``delete`` operations, in
    order; ``SKILL.md`` may be rewritten but not moved or deleted."""
    result = {f["path"]: dict(f) for f in files}
    for operation in operations:
        path = validate_path(operation["path"])
        if operation["op"] == "put":
            if operation.get("content") is None:
                raise BadRequest("put requires content")
            result[path] = {"path": path, "content": operation["content"]}
            if operation.get("encoding"):
                result[path]["encoding"] = operation["encoding"]
            continue
        if path == ROOT:
            raise BadRequest("SKILL.md cannot be moved or deleted")
        matched = [p for p in result if p == path or p.startswith(path + "/")]
        if not matched:
            raise BadRequest(f"File or directory not found: {path}")
        if operation["op"] == "move":
            destination = validate_path(operation.get("destination") or "")
            if destination.startswith(path + "/"):
                raise BadRequest("Cannot move a directory into itself")
            moved = {destination + p[len(path):]: result[p] for p in matched}
            if any(p in result and p not in matched for p in moved):
                raise BadRequest("Move would overwrite an existing file")
            for p in matched:
                del result[p]
            result.update({p: {**f, "path": p} for p, f in moved.items()})
        else:
            for p in matched:
                del result[p]
    return validate_files(list(result.values()), files)


def frontmatter(content: str) -> dict:
    """The YAML header of a ``SKILL.md`` (``name``, ``description`` ...), empty when there is none."""
    match = re.match(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", content, re.DOTALL)
    if not match:
        return {}
    try:
        value = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return value if isinstance(value, dict) else {}


def summaries(files: list[dict]) -> list[dict]:
    return [{"path": f["path"], "size": len(file_bytes(f)), "encoding": f.get("encoding")} for f in files]


def summarized(saved: dict) -> dict:
    """A version's snapshot with its files' summaries in place of their content."""
    return {**{k: v for k, v in saved.items() if k != "data"}, "data": {"files": summaries(saved["data"]["files"])}}


def _archive_packages(data: bytes, discover: bool, directory: str | None) -> list[dict]:
    """The skills in a ZIP: one per directory holding a ``SKILL.md`` (the outermost ones). ``discover``
    (an archive downloaded from a URL) skips files outside the skills instead of refusing them; ``directory``
    keeps only that folder of a GitHub archive (whose first path part is the repository's)."""
    entries: dict[str, bytes] = {}
    links, total = [], 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            path = validate_path(info.filename.rstrip("/"))
            special = stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG, stat.S_IFDIR)
            if special and not discover:
                raise BadRequest("Archives cannot contain links or special files")
            if info.is_dir():
                continue
            if directory is not None:
                path = path.partition("/")[2]
                if not path.startswith(directory):
                    continue
            if special:
                links.append(path)
                continue
            if path in entries:
                raise BadRequest(f"Duplicate archive path: {path}")
            total += info.file_size
            if info.file_size > MAX_FILE_BYTES or total > MAX_IMPORT_BYTES or len(entries) >= MAX_ARCHIVE_ENTRIES:
                raise BadRequest("Archive exceeds import limits")
            if info.flag_bits & 1:
                raise BadRequest("Encrypted skill archives are not supported")
            try:
                entries[path] = archive.read(info)
            except NotImplementedError:
                raise BadRequest("Skill archive uses an unsupported compression method") from None
    roots = [""] if ROOT in entries else sorted(p[:-len(ROOT)] for p in entries if p.endswith("/" + ROOT))
    if not roots:
        raise BadRequest("Archive contains no SKILL.md")
    roots = [root for root in roots if not any(root != parent and root.startswith(parent) for parent in roots)]
    if any(path.startswith(root) for path in links for root in roots):
        raise BadRequest("Archives cannot contain links or special files")
    if not discover and any(not any(p.startswith(root) for root in roots) for p in entries):
        raise BadRequest("Archive contains files outside skill directories")
    return [{"files": [encode_file(p[len(root):], value) for p, value in entries.items() if p.startswith(root)]}
            for root in roots]


def _raw_packages(data: bytes, filename: str, discover: bool, directory: str | None) -> list:
    name = filename.lower()
    if name.endswith(".json"):
        try:
            value = json.loads(data)
        except ValueError as error:
            raise BadRequest(f"Invalid JSON: {error}") from None
        return value if isinstance(value, list) else [value]
    if name.endswith((".zip", ".skill")):
        try:
            return _archive_packages(data, discover, directory)
        except zipfile.BadZipFile as error:
            raise BadRequest(str(error)) from None
    if name.endswith(".md"):
        return [{"files": [encode_file(ROOT, data)]}]
    raise BadRequest("Use JSON, ZIP, .skill, or Markdown")


def parse_import(data: bytes, filename: str, *, discover: bool = False, directory: str | None = None) -> list[dict]:
    """The skills in an upload or download: ``{id, name, description, meta, is_active?, files}`` each, the
    name and description from the package or else from ``SKILL.md``'s header, the id from the name."""
    if len(data) > MAX_IMPORT_BYTES:
        raise BadRequest("Import exceeds 200 MiB")
    result, total = [], 0
    for package in _raw_packages(data, filename, discover, directory):
        if not isinstance(package, dict):
            raise BadRequest("Each imported skill must be an object")
        files = validate_files(package["files"] if "files" in package
                               else [{"path": ROOT, "content": package.get("content", "")}])
        total += sum(len(file_bytes(f)) for f in files)
        if total > MAX_IMPORT_BYTES:
            raise BadRequest("Import exceeds 200 MiB decoded")
        header = frontmatter(root_content(files))
        name = str(package.get("name") or header.get("name") or "Imported skill")
        result.append({
            "id": str(package.get("id") or re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "imported-skill"),
            "name": name, "description": package.get("description", header.get("description", "")),
            "meta": package.get("meta") or {}, "files": files,
            **({"is_active": package["is_active"]} if "is_active" in package else {}),
        })
    return result


def folder_packages(uploads: list[tuple[str, bytes]]) -> list[dict]:
    """A picked folder (uploads named by their relative paths): one package per outermost ``SKILL.md``
    directory; a file outside every skill directory refuses the whole folder."""
    files = [encode_file(validate_path(name), data) for name, data in uploads]
    roots = sorted(f["path"][:-len(ROOT)] for f in files if f["path"].endswith("/" + ROOT))
    roots = [root for root in roots if not any(root != parent and root.startswith(parent) for parent in roots)]
    if not roots:
        raise BadRequest("Select a folder containing one or more non-nested skills")
    if any(not any(f["path"].startswith(root) for root in roots) for f in files):
        raise BadRequest("Files outside skill directories")
    return [parse_import(json.dumps({"files": [{**f, "path": f["path"][len(root):]} for f in files
                                               if f["path"].startswith(root)]}).encode(), "skill.json")[0]
            for root in roots]


def read_uploads(uploads: list[tuple[str, bytes]]) -> list[dict]:
    """The skills in an import's uploads: files (JSON, ZIP, ``.skill``, Markdown) and picked folders (uploads
    whose names hold a ``/``), within 200 MiB in all."""
    if len(uploads) > MAX_ARCHIVE_ENTRIES:
        raise BadRequest("Too many uploaded files")
    if sum(len(data) for _, data in uploads) > MAX_IMPORT_BYTES:
        raise BadRequest("Import exceeds 200 MiB")
    in_folders = [(name, data) for name, data in uploads if "/" in name]
    packages = [package for name, data in uploads if "/" not in name for package in parse_import(data, name)]
    if in_folders:
        packages += folder_packages(in_folders)
    if sum(len(file_bytes(f)) for p in packages for f in p["files"]) > MAX_IMPORT_BYTES:
        raise BadRequest("Import exceeds 200 MiB decoded")
    return packages


def zip_export(packages: list[dict]) -> bytes:
    """The packages as one ZIP, each in a folder named by its ``SKILL.md`` name (a slug) or else its id."""
    output, roots = io.BytesIO(), set()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in packages:
            name = frontmatter(root_content(package["files"])).get("name")
            root = name if isinstance(name, str) and SLUG.fullmatch(name) else package["id"]
            validate_path(root)
            if root in roots:
                raise BadRequest("Selected skills have duplicate export directory names")
            roots.add(root)
            for file in package["files"]:
                archive.writestr(root + "/" + validate_path(file["path"]), file_bytes(file))
    return output.getvalue()


def import_source(url: str) -> tuple[str, str | None]:
    """Where to download a skill URL from, and the folder to keep: a GitHub repository, folder or
    ``SKILL.md`` page becomes its ZIP archive (``codeload.github.com``) and the folder in it; any other URL
    is downloaded as it is."""
    url = url.strip()
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.password:
        raise BadRequest("Use an HTTP(S) URL without embedded credentials")
    if parsed.hostname.lower() != "github.com":
        return url, None
    parts = parsed.path.strip("/").split("/")
    if len(parts) < 2 or any(not re.fullmatch(r"[\w.-]+", part) or part in (".", "..") for part in parts[:2]):
        raise BadRequest("Invalid GitHub repository URL")
    owner, repo = parts[0], parts[1].removesuffix(".git")
    if not repo:
        raise BadRequest("Invalid GitHub repository URL")
    ref, directory = "HEAD", ""
    if len(parts) > 2:
        if parts[2] in ("archive", "releases", "raw"):
            return url, None
        if len(parts) < 4 or parts[2] not in ("tree", "blob"):
            raise BadRequest("Use a GitHub repository, folder, or SKILL.md URL")
        ref = validate_path(unquote(parts[3]))
        path = "/".join(unquote(part) for part in parts[4:])
        if parts[2] == "blob":
            if not path or path.split("/")[-1] != ROOT:
                raise BadRequest("Select a SKILL.md file or a skill folder")
            path = path.removesuffix(ROOT).rstrip("/")
        directory = validate_path(path) + "/" if path else ""
    return f"https://codeload.github.com/{owner}/{repo}/zip/{quote(ref, safe='')}", directory
