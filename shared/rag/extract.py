"""Text from an uploaded file: plain text, Markdown, CSV, JSON, HTML (scripts dropped), PDF and DOCX."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import PurePath
from typing import BinaryIO

from shared.config import get_settings
from shared.rag.archives import check_archive


class NotIndexable(Exception):
    """A file type Switchyard stores but cannot extract text from."""


TEXT_EXTENSIONS = {
    "txt", "md", "markdown", "csv", "tsv", "log", "rst", "xml", "yaml", "yml", "toml", "ini", "py", "js", "ts",
    "java", "c", "h", "cpp", "go", "rs", "rb", "php", "sh", "sql", "css", "tex",
}


class _HtmlText(HTMLParser):
    """Visible text of an HTML document; ``script``, ``style`` and ``template`` contents are dropped."""

    SKIP = {"script", "style", "template", "noscript"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    return parser.text()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _pdf_text(stream: BinaryIO) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(stream)
        return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ValueError(f"The PDF could not be read: {exc}") from None


def _docx_text(stream: BinaryIO) -> str:
    import zipfile

    import docx

    check_archive(stream, "DOCX")
    try:
        document = docx.Document(stream)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(f"The DOCX document could not be read: {exc}") from None
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n\n".join(parts)


def kind_of(filename: str, content_type: str | None) -> str:
    """``pdf``, ``docx``, ``html``, ``json``, ``text`` or ``other``, by extension then content type."""
    ext = PurePath(filename or "").suffix.lower().lstrip(".")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ext == "pdf" or ctype == "application/pdf":
        return "pdf"
    if ext == "docx" or ctype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        return "docx"
    if ext in {"html", "htm"} or ctype in {"text/html", "application/xhtml+xml"}:
        return "html"
    if ext == "json" or ctype == "application/json":
        return "json"
    if ext in TEXT_EXTENSIONS or ctype.startswith("text/"):
        return "text"
    return "other"


def extract_text(stream: BinaryIO, filename: str, content_type: str | None) -> str:
    """The document's text; ``NotIndexable`` for types without an extractor, ``ValueError`` for broken files,
    archive bombs and text beyond ``EXTRACTED_TEXT_MAX_CHARS``."""
    text = _text_of(stream, kind_of(filename, content_type), filename, content_type)
    limit = get_settings().extracted_text_max_chars
    if len(text) > limit:
        raise ValueError(f"The file yields {len(text)} characters of text; at most {limit} are indexed "
                         "(EXTRACTED_TEXT_MAX_CHARS).")
    return text


def _text_of(stream: BinaryIO, kind: str, filename: str, content_type: str | None) -> str:
    if kind == "pdf":
        return _pdf_text(stream)
    if kind == "docx":
        return _docx_text(stream)
    if kind == "other":
        raise NotIndexable(
            f"File type {content_type or PurePath(filename).suffix or 'unknown'} is stored but not indexable "
            "(no text extractor for it)."
        )
    text = _decode(stream.read())
    if kind == "html":
        return html_text(text)
    if kind == "json":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text
