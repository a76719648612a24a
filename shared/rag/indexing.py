"""The steps the processing jobs run: extract a file's text, and chunk + embed + store it in collections."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from shared.models import File
from shared.rag import config as rag_config
from shared.rag.chunking import split_text
from shared.rag.embedding import get_embedder
from shared.rag.extract import extract_text
from shared.rag.vectors import ChunkIn, get_vector_store
from shared.storage import get_storage

Progress = Callable[[int, int], None]


def extract_file(file: File) -> str:
    """The original's text (``NotIndexable`` / ``ValueError`` when there is none)."""
    if not file.path:
        raise ValueError("The original file is unavailable.")
    meta = file.meta or {}
    with get_storage().open(file.path) as stream:
        return extract_text(stream, meta.get("name") or file.filename, meta.get("content_type"))


def chunk_text(session: Session, text: str) -> list[str]:
    return split_text(text, int(rag_config.get(session, "CHUNK_SIZE")), int(rag_config.get(session, "CHUNK_OVERLAP")))


def file_chunks(session: Session, file: File, text: str) -> list[ChunkIn]:
    meta = file.meta or {}
    name = meta.get("name") or file.filename
    return [
        ChunkIn(text=piece, file_id=file.id, position=index,
                meta={"name": name, "source": name, "file_id": file.id, "created_by": file.user_id,
                      "hash": file.hash, "start_index": index, "content_type": meta.get("content_type")})
        for index, piece in enumerate(chunk_text(session, text))
    ]


def text_chunks(session: Session, text: str, meta: dict) -> list[ChunkIn]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return [ChunkIn(text=piece, position=i, meta={**meta, "hash": digest, "start_index": i})
            for i, piece in enumerate(chunk_text(session, text))]


def store_chunks(session: Session, chunks: Sequence[ChunkIn], collections: Sequence[str],
                 file_id: str | None = None, on_batch: Progress | None = None) -> int:
    """Embed once and write the chunks into every collection, replacing the file's previous chunks there."""
    vectors = get_embedder(session).embed([c.text for c in chunks], on_batch) if chunks else None
    store = get_vector_store()
    for collection in dict.fromkeys(collections):
        if file_id is not None:
            store.delete(session, collection=collection, file_id=file_id)
        if chunks:
            store.add(session, collection, chunks, vectors)
    return len(chunks)
