"""A web server on loopback that hosts skills to load by URL: a ``SKILL.md``, a ZIP of skills, a web page,
and redirects (``/redirect?to=URL``)."""
from __future__ import annotations

import io
import zipfile

from tests.fakes.server import FakeUpstream, Received, Reply

SKILL_MD = b"---\nname: pdf-tools\ndescription: Work with PDF files\n---\n# PDF tools\nUse pypdf."


def skills_zip() -> bytes:
    """Two skills in their folders, as a repository archive holds them (one with a script beside it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("repo-main/README.md", "the repository")
        archive.writestr("repo-main/skills/pdf/SKILL.md", SKILL_MD)
        archive.writestr("repo-main/skills/pdf/scripts/fill.py", "print('fill')")
        archive.writestr("repo-main/skills/csv/SKILL.md", "---\nname: csv\n---\nRead CSV.")
    return out.getvalue()


class FakeSkillHost(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()

        @self.route("GET", "/skills/pdf/SKILL.md")
        def skill(_request: Received, reply: Reply) -> None:
            reply.body(SKILL_MD, "text/markdown; charset=utf-8")

        @self.route("GET", "/skills.zip")
        def archive(_request: Received, reply: Reply) -> None:
            reply.body(skills_zip(), "application/octet-stream")

        @self.route("GET", "/page")
        def page(_request: Received, reply: Reply) -> None:
            reply.body(b"<html><body>not a skill</body></html>", "text/html")

        @self.route("GET", "/redirect")
        def redirect(request: Received, reply: Reply) -> None:
            reply.headers["Location"] = request.params["to"]
            reply.body(b"", "text/plain", 302)
