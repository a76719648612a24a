"""Retrieval settings: Open WebUI's ``rag.*`` config keys, their environment defaults and API field names."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.config import env
from shared.errors import BadRequest
from shared.services import app_config

DEFAULT_RAG_TEMPLATE = """### Task:
Respond to the user query using the provided context, incorporating inline citations in the format [id] **only when the <source> tag includes an explicit id attribute** (e.g., <source id="1">).

### Guidelines:
- If you don't know the answer, clearly state that.
- If uncertain, ask the user for clarification.
- Respond in the same language as the user's query.
- If the context is unreadable or of poor quality, inform the user and provide the best possible answer.
- If the answer isn't present in the context but you possess the knowledge, explain this to the user and provide the answer using your own understanding.
- **Only include inline citations using [id] (e.g., [1], [2]) when the <source> tag includes an id attribute.**
- Do not cite if the <source> tag does not contain an id attribute.
- Do not use XML tags in your response.
- Ensure citations are concise and directly related to the information provided.

### Example of Citation:
If the user asks about a specific topic and the information is found in a source with a provided id attribute, the response should include the citation like in the following example:
* "According to the study, the proposed method increases efficiency by 20% [1]."

### Output:
Provide a clear and direct response to the user's query, including inline citations in the format [id] only when the <source> tag with id attribute is present in the context.

<context>
{{CONTEXT}}
</context>
"""
"""Open WebUI's default RAG prompt (its wording is the contract models and users expect)."""


# API field -> (config key, default from the environment)
FIELDS: dict[str, tuple[str, Any]] = {
    "RAG_TEMPLATE": ("rag.template", lambda: env("RAG_TEMPLATE") or DEFAULT_RAG_TEMPLATE),
    "TOP_K": ("rag.top_k", lambda: env("RAG_TOP_K")),
    "BYPASS_EMBEDDING_AND_RETRIEVAL": ("rag.bypass_embedding_and_retrieval",
                                       lambda: env("BYPASS_EMBEDDING_AND_RETRIEVAL")),
    "RAG_FULL_CONTEXT": ("rag.full_context", lambda: env("RAG_FULL_CONTEXT")),
    "ENABLE_RAG_HYBRID_SEARCH": ("rag.enable_hybrid_search", lambda: env("ENABLE_RAG_HYBRID_SEARCH")),
    "ENABLE_RAG_HYBRID_SEARCH_ENRICHED_TEXTS": ("rag.enable_hybrid_search_enriched_texts", lambda: False),
    "TOP_K_RERANKER": ("rag.top_k_reranker", lambda: env("RAG_TOP_K_RERANKER")),
    "RELEVANCE_THRESHOLD": ("rag.relevance_threshold", lambda: env("RAG_RELEVANCE_THRESHOLD")),
    "HYBRID_BM25_WEIGHT": ("rag.hybrid_bm25_weight", lambda: env("RAG_HYBRID_BM25_WEIGHT")),
    "CONTENT_EXTRACTION_ENGINE": ("rag.content_extraction_engine", lambda: ""),
    "PDF_EXTRACT_IMAGES": ("rag.pdf_extract_images", lambda: False),
    "RAG_RERANKING_MODEL": ("rag.reranking_model", lambda: env("RAG_RERANKING_MODEL")),
    "RAG_RERANKING_ENGINE": ("rag.reranking_engine", lambda: env("RAG_RERANKING_ENGINE")),
    "RAG_EXTERNAL_RERANKER_URL": ("rag.external_reranker_url", lambda: env("RAG_EXTERNAL_RERANKER_URL")),
    "RAG_EXTERNAL_RERANKER_API_KEY": ("rag.external_reranker_api_key",
                                      lambda: env("RAG_EXTERNAL_RERANKER_API_KEY")),
    "RAG_EXTERNAL_RERANKER_TIMEOUT": ("rag.external_reranker_timeout",
                                      lambda: env("RAG_EXTERNAL_RERANKER_TIMEOUT")),
    "TEXT_SPLITTER": ("rag.text_splitter", lambda: ""),
    "CHUNK_SIZE": ("rag.chunk_size", lambda: env("CHUNK_SIZE")),
    "CHUNK_MIN_SIZE_TARGET": ("rag.chunk_min_size_target", lambda: env("CHUNK_MIN_SIZE_TARGET")),
    "CHUNK_OVERLAP": ("rag.chunk_overlap", lambda: env("CHUNK_OVERLAP")),
    "FILE_MAX_SIZE": ("rag.file.max_size", lambda: env("RAG_FILE_MAX_SIZE")),
    "FILE_MAX_COUNT": ("rag.file.max_count", lambda: env("RAG_FILE_MAX_COUNT")),
    "FILE_IMAGE_COMPRESSION_WIDTH": ("file.image_compression_width", lambda: None),
    "FILE_IMAGE_COMPRESSION_HEIGHT": ("file.image_compression_height", lambda: None),
    "ALLOWED_FILE_EXTENSIONS": ("rag.file.allowed_extensions", lambda: env("RAG_ALLOWED_FILE_EXTENSIONS")),
    "ENABLE_GOOGLE_DRIVE_INTEGRATION": ("google_drive.enable", lambda: False),
    "ENABLE_ONEDRIVE_INTEGRATION": ("onedrive.enable", lambda: False),
}

EMBEDDING_FIELDS: dict[str, tuple[str, Any]] = {
    "RAG_EMBEDDING_ENGINE": ("rag.embedding_engine", lambda: env("RAG_EMBEDDING_ENGINE")),
    "RAG_EMBEDDING_MODEL": ("rag.embedding_model", lambda: env("RAG_EMBEDDING_MODEL")),
    "RAG_EMBEDDING_BATCH_SIZE": ("rag.embedding_batch_size", lambda: env("RAG_EMBEDDING_BATCH_SIZE")),
    "ENABLE_ASYNC_EMBEDDING": ("rag.enable_async_embedding", lambda: True),
    "RAG_EMBEDDING_CONCURRENT_REQUESTS": ("rag.embedding_concurrent_requests", lambda: 0),
}

UPSTREAM_FIELDS: dict[str, tuple[str, Any]] = {
    "openai.url": ("rag.openai.api_base_url", lambda: env("RAG_OPENAI_API_BASE_URL")),
    "openai.key": ("rag.openai.api_key", lambda: env("RAG_OPENAI_API_KEY")),
    "ollama.url": ("rag.ollama.base_url", lambda: env("RAG_OLLAMA_BASE_URL")),
    "ollama.key": ("rag.ollama.api_key", lambda: env("RAG_OLLAMA_API_KEY")),
}
"""Embedding upstream overrides; empty means: use the gateway's first connection of that kind."""

WEB_SEARCH_SETTINGS = (
    "WEB_SEARCH_ENGINE", "WEB_SEARCH_RESULT_COUNT", "BYPASS_WEB_SEARCH_EMBEDDING_AND_RETRIEVAL",
    "BYPASS_WEB_SEARCH_WEB_LOADER", "WEB_SEARCH_CONCURRENT_REQUESTS", "WEB_LOADER_CONCURRENT_REQUESTS",
    "WEB_SEARCH_DOMAIN_FILTER_LIST", "YOUTUBE_LOADER_LANGUAGE", "YOUTUBE_LOADER_PROXY_URL", "YOUTUBE_BASE_URL",
    "SEARXNG_QUERY_URL", "BRAVE_SEARCH_API_KEY", "BRAVE_SEARCH_API_URL", "TAVILY_API_KEY", "TAVILY_API_BASE_URL",
    "DDG_HTML_URL", "GOOGLE_PSE_API_KEY", "GOOGLE_PSE_ENGINE_ID", "GOOGLE_PSE_API_URL", "BING_SEARCH_V7_ENDPOINT",
    "BING_SEARCH_V7_SUBSCRIPTION_KEY", "JINA_API_KEY", "JINA_API_BASE_URL", "FIRECRAWL_API_BASE_URL",
    "FIRECRAWL_API_KEY", "EXTERNAL_WEB_SEARCH_URL", "EXTERNAL_WEB_SEARCH_API_KEY",
)
WEB_FIELDS: dict[str, tuple[str, Any]] = {
    "ENABLE_WEB_SEARCH": ("web.search.enable", lambda: env("ENABLE_WEB_SEARCH")),
    **{field: (f"web.search.{field.lower()}", lambda f=field: env(f)) for field in WEB_SEARCH_SETTINGS},
}
"""The ``web`` part of ``/api/v1/retrieval/config`` (Open WebUI's names); the engines read them by name."""

ENGINES = ("", "ollama", "openai")
"""``""`` is the local sentence-transformers engine (an optional extra)."""

CONFIG_DEFAULTS = {key: lambda _s, f=factory: f()
                   for key, factory in (*FIELDS.values(), *EMBEDDING_FIELDS.values(), *UPSTREAM_FIELDS.values(),
                                        *WEB_FIELDS.values())}


def get(session: Session, field: str) -> Any:
    """One setting by its API field name (``CHUNK_SIZE``) or config key (``rag.chunk_size``)."""
    for table in (FIELDS, EMBEDDING_FIELDS, UPSTREAM_FIELDS, WEB_FIELDS):
        if field in table:
            return app_config.get(session, table[field][0])
    return app_config.get(session, field)


def listed(raw: object) -> list[str]:
    """A list setting as stored: a list (the web app saves one) or comma-separated text; blanks dropped."""
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def _read(session: Session, table: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    stored = app_config.get_many(session, [key for key, _ in table.values()])
    return {field: stored[key] for field, (key, _) in table.items()}


def rag_config(session: Session) -> dict[str, Any]:
    """``GET /api/v1/retrieval/config``."""
    return {"status": True, **_read(session, FIELDS),
            "web": web_settings(session)}


def web_settings(session: Session) -> dict[str, Any]:
    """The admin's web search settings under Open WebUI's field names."""
    return _read(session, WEB_FIELDS)


def _check_limit(field: str, value: Any) -> None:
    if value in (None, ""):
        return
    try:
        valid = float(value) > 0
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise BadRequest(f"{field} must be a positive number, or empty for no limit.")


def update_rag_config(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """Store the submitted fields (None = unchanged; ``""`` clears a size limit)."""
    limits = ("FILE_MAX_SIZE", "FILE_MAX_COUNT")
    for field in limits:
        _check_limit(field, values.get(field))
    updates = {FIELDS[f][0]: (None if f in limits and v == "" else v)
               for f, v in values.items() if f in FIELDS and v is not None}
    web = values.get("web") or {}
    updates.update({WEB_FIELDS[f][0]: v for f, v in web.items() if f in WEB_FIELDS and v is not None})
    app_config.set_many(session, updates)
    return rag_config(session)


def embedding_config(session: Session) -> dict[str, Any]:
    """``GET /api/v1/retrieval/embedding``."""
    upstream = _read(session, UPSTREAM_FIELDS)
    return {
        "status": True, **_read(session, EMBEDDING_FIELDS),
        "openai_config": {"url": upstream["openai.url"], "key": upstream["openai.key"]},
        "ollama_config": {"url": upstream["ollama.url"], "key": upstream["ollama.key"]},
        # Azure OpenAI is not one of ENGINES: its settings are empty (the Documents tab reads them)
        "azure_openai_config": {"url": "", "key": "", "version": ""},
    }


def embedding_signature(session: Session) -> str:
    """Which engine and model produced the stored vectors (a change means a reindex)."""
    config = _read(session, EMBEDDING_FIELDS)
    return f"{config['RAG_EMBEDDING_ENGINE']}:{config['RAG_EMBEDDING_MODEL']}"


def update_embedding_config(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Store engine, model and upstream overrides; the flag says whether the engine or model changed."""
    before = embedding_signature(session)
    updates = {EMBEDDING_FIELDS[f][0]: v for f, v in values.items() if f in EMBEDDING_FIELDS and v is not None}
    if "rag.embedding_model" in updates:
        updates["rag.embedding_model"] = str(updates["rag.embedding_model"]).strip()
    for engine in ("openai", "ollama"):
        given = values.get(f"{engine}_config")
        if given is not None and values.get("RAG_EMBEDDING_ENGINE") == engine:
            updates[UPSTREAM_FIELDS[f"{engine}.url"][0]] = given.get("url") or ""
            updates[UPSTREAM_FIELDS[f"{engine}.key"][0]] = given.get("key") or ""
    app_config.set_many(session, updates)
    return embedding_config(session), embedding_signature(session) != before
