"""``/api/v1/retrieval``: RAG settings, embedding engine, indexing and similarity queries (run as jobs)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.rag import config as rag_config
from shared.services import batch_indexing, files, retrieval, web_search
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.files import file_json
from web.rate_limiting import limited
from web.schemas import Body
from web.streaming.responses import accepted, result_or_accepted, wants_async

blp = Blueprint("retrieval", __name__, url_prefix="/api/v1/retrieval", description="Retrieval (RAG)")

QUERY_TIMEOUT = 60.0
PROCESS_TIMEOUT = 300.0


class UpstreamConfig(Body):
    url = fields.String(load_default=None, allow_none=True)
    key = fields.String(load_default=None, allow_none=True)


class EmbeddingBody(Body):
    RAG_EMBEDDING_ENGINE = fields.String(required=True, validate=validate.OneOf(rag_config.ENGINES))
    RAG_EMBEDDING_MODEL = fields.String(required=True)
    RAG_EMBEDDING_BATCH_SIZE = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    ENABLE_ASYNC_EMBEDDING = fields.Boolean(load_default=None, allow_none=True)
    RAG_EMBEDDING_CONCURRENT_REQUESTS = fields.Integer(load_default=None, allow_none=True)
    openai_config = fields.Nested(UpstreamConfig, load_default=None, allow_none=True)
    ollama_config = fields.Nested(UpstreamConfig, load_default=None, allow_none=True)


class ConfigBody(Body):
    """Open WebUI's ``ConfigForm`` (the fields Switchyard acts on; others are ignored)."""

    RAG_TEMPLATE = fields.String(load_default=None, allow_none=True)
    TOP_K = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000))
    BYPASS_EMBEDDING_AND_RETRIEVAL = fields.Boolean(load_default=None, allow_none=True)
    RAG_FULL_CONTEXT = fields.Boolean(load_default=None, allow_none=True)
    ENABLE_RAG_HYBRID_SEARCH = fields.Boolean(load_default=None, allow_none=True)
    ENABLE_RAG_HYBRID_SEARCH_ENRICHED_TEXTS = fields.Boolean(load_default=None, allow_none=True)
    TOP_K_RERANKER = fields.Integer(load_default=None, allow_none=True)
    RELEVANCE_THRESHOLD = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1))
    HYBRID_BM25_WEIGHT = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1))
    CONTENT_EXTRACTION_ENGINE = fields.String(load_default=None, allow_none=True)
    PDF_EXTRACT_IMAGES = fields.Boolean(load_default=None, allow_none=True)
    RAG_RERANKING_MODEL = fields.String(load_default=None, allow_none=True)
    RAG_RERANKING_ENGINE = fields.String(load_default=None, allow_none=True,
                                         validate=validate.OneOf(("", "external")))
    RAG_EXTERNAL_RERANKER_URL = fields.String(load_default=None, allow_none=True)
    RAG_EXTERNAL_RERANKER_API_KEY = fields.String(load_default=None, allow_none=True)
    RAG_EXTERNAL_RERANKER_TIMEOUT = fields.Float(load_default=None, allow_none=True,
                                                 validate=validate.Range(min=0, min_inclusive=False))
    TEXT_SPLITTER = fields.String(load_default=None, allow_none=True)
    CHUNK_SIZE = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    CHUNK_MIN_SIZE_TARGET = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    CHUNK_OVERLAP = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    FILE_MAX_SIZE = fields.Raw(load_default=None, allow_none=True)
    FILE_MAX_COUNT = fields.Raw(load_default=None, allow_none=True)
    ALLOWED_FILE_EXTENSIONS = fields.List(fields.String(), load_default=None, allow_none=True)
    ENABLE_GOOGLE_DRIVE_INTEGRATION = fields.Boolean(load_default=None, allow_none=True)
    ENABLE_ONEDRIVE_INTEGRATION = fields.Boolean(load_default=None, allow_none=True)
    web = fields.Dict(load_default=None, allow_none=True)


class ProcessFileBody(Body):
    file_id = fields.String(required=True)
    content = fields.String(load_default=None, allow_none=True)
    collection_name = fields.String(load_default=None, allow_none=True)


class BatchFileSchema(Body):
    """Open WebUI's ``FileModel``: only ``id`` and ``data.content`` are used."""

    id = fields.String(required=True)
    data = fields.Dict(load_default=dict, allow_none=True)


class FilesBatchBody(Body):
    files = fields.List(fields.Nested(BatchFileSchema), required=True, validate=validate.Length(min=1, max=1000))
    collection_name = fields.String(required=True, validate=validate.Length(min=1))


class ProcessWebBody(Body):
    url = fields.String(required=True, validate=validate.Length(min=1))
    collection_name = fields.String(load_default=None, allow_none=True)


class ProcessUrlQuery(Body):
    process = fields.Boolean(load_default=True)


class WebSearchBody(Body):
    queries = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=20))


class ProcessTextBody(Body):
    name = fields.String(required=True)
    content = fields.String(required=True, validate=validate.Length(min=1))
    collection_name = fields.String(load_default=None, allow_none=True)


class _QueryOptions(Body):
    query = fields.String(required=True, validate=validate.Length(min=1))
    k = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000))
    r = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1))
    hybrid = fields.Boolean(load_default=None, allow_none=True)


class QueryDocBody(_QueryOptions):
    collection_name = fields.String(required=True)


class QueryCollectionBody(_QueryOptions):
    collection_names = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class DeleteBody(Body):
    collection_name = fields.String(required=True)
    file_id = fields.String(required=True)


@blp.route("/embedding", methods=["GET"])
@admin_required
def get_embedding_config():
    return jsonify(rag_config.embedding_config(db()))


@blp.route("/embedding/update", methods=["POST"])
@admin_required
@blp.arguments(EmbeddingBody)
def update_embedding_config(body: dict):
    """Switch engine or model; stored vectors no longer match, so a reindex job is started."""
    return jsonify(retrieval.update_embedding_config(db(), current_user(), body))


@blp.route("/config", methods=["GET"])
@admin_required
def get_config():
    return jsonify(rag_config.rag_config(db()))


@blp.route("/config/update", methods=["POST"])
@admin_required
@blp.arguments(ConfigBody)
def update_config(body: dict):
    return jsonify(rag_config.update_rag_config(db(), body))


@blp.route("/reset/db", methods=["POST"])
@admin_required
def reset_db():
    """Empty the vector store and remove the knowledge bases: a job (202, its progress at ``Location``)."""
    return accepted(retrieval.start_reset(db(), current_user()))


@blp.route("/reset/uploads", methods=["POST"])
@admin_required
def reset_uploads():
    """Remove every file's stored bytes (a job): ``true`` when it ends within the wait, else 202 with the job."""
    return result_or_accepted(files.start_reset_uploads(db(), current_user()), QUERY_TIMEOUT)


@blp.route("/process/file", methods=["POST"])
@limited("embeddings")
@user_required
@blp.arguments(ProcessFileBody)
def process_file(body: dict):
    """(Re)index a file, optionally with new text and into one more collection; waits for the result
    (bounded), or answers 202 with the job with ``Prefer: respond-async``."""
    session = db()
    job = retrieval.process_file(session, current_user(), body["file_id"], body["collection_name"], body["content"])
    if wants_async():
        return accepted(job)
    outcome = list(files.follow_status(body["file_id"], PROCESS_TIMEOUT))[-1]
    if outcome["status"] == "failed":
        return jsonify(detail=outcome.get("error") or "Processing failed."), 400
    if outcome["status"] != "completed":
        return accepted(job)
    return jsonify(retrieval.processed_file(session, body["file_id"], body["collection_name"]))


@blp.route("/process/text", methods=["POST"])
@limited("embeddings")
@user_required
@blp.arguments(ProcessTextBody)
def process_text(body: dict):
    """Index a text into a collection the caller may write (default: one named by the text's hash)."""
    job = retrieval.start_index_text(db(), current_user(), body["name"], body["content"], body["collection_name"])
    return result_or_accepted(job, PROCESS_TIMEOUT)


@blp.route("/process/files/batch", methods=["POST"])
@limited("embeddings")
@user_required
@blp.arguments(FilesBatchBody)
def process_files_batch(body: dict):
    """Add the texts sent for the caller's files to a collection, embedded together (a job):
    ``{results, errors}``, one entry per file."""
    entries = [{"file_id": f["id"], "content": str((f["data"] or {}).get("content") or "")} for f in body["files"]]
    job = batch_indexing.start(db(), current_user(), body["collection_name"], entries)
    return result_or_accepted(job, PROCESS_TIMEOUT)


@blp.route("/process/web", methods=["POST"])
@user_required
@blp.arguments(ProcessWebBody)
def process_web(body: dict):
    """Load a web page into a collection (a job: fetch, extract, chunk, embed)."""
    job = web_search.start_process_web(db(), current_user(), body["url"], body["collection_name"])
    return result_or_accepted(job, PROCESS_TIMEOUT)


@blp.route("/process/youtube", methods=["POST"])
@user_required
@blp.arguments(ProcessWebBody)
def process_youtube(body: dict):
    """Load a YouTube video's transcript into a collection (a job); another URL is loaded as a page, as Open
    WebUI's one handler for both routes does."""
    job = web_search.start_process_web(db(), current_user(), body["url"], body["collection_name"])
    return result_or_accepted(job, PROCESS_TIMEOUT)


@blp.route("/process/url", methods=["POST"])
@user_required
@blp.arguments(ProcessWebBody)
@blp.arguments(ProcessUrlQuery, location="query")
def process_url(body: dict, args: dict):
    """Open WebUI's "attach a web page": a page's or a video's text (indexed unless ``process=false``), or a
    download kept as a file of the caller (a job); the file comes back as ``file``."""
    job = web_search.start_process_url(db(), current_user(), body["url"], body["collection_name"], args["process"])
    return result_or_accepted(job, PROCESS_TIMEOUT, _with_file)


def _with_file(result: dict):
    """The job's answer with the file it kept, in the files API's shape."""
    file_id = result.pop("file_id", None)
    if file_id:
        result["file"] = file_json(files.get_file(db(), file_id, current_user()))
    return jsonify(result)


@blp.route("/process/web/search", methods=["POST"])
@user_required
@blp.arguments(WebSearchBody)
def process_web_search(body: dict):
    """Search the web with the admin's engine and index the pages found (a job)."""
    job = web_search.start_search(db(), current_user(), body["queries"])
    return result_or_accepted(job, PROCESS_TIMEOUT)


def _query(collection_names: list[str], body: dict):
    job = retrieval.start_query(db(), current_user(), collection_names, body["query"], body["k"], body["r"],
                                body["hybrid"])
    return result_or_accepted(job, QUERY_TIMEOUT)


@blp.route("/query/doc", methods=["POST"])
@limited("embeddings")
@user_required
@blp.arguments(QueryDocBody)
def query_doc(body: dict):
    """The ``k`` chunks of one collection closest to the query: ``{ids, documents, metadatas, distances}``."""
    return _query([body["collection_name"]], body)


@blp.route("/query/collection", methods=["POST"])
@limited("embeddings")
@user_required
@blp.arguments(QueryCollectionBody)
def query_collection(body: dict):
    """The ``k`` closest chunks across several collections (files, knowledge bases, own memories)."""
    return _query(body["collection_names"], body)


@blp.route("/delete", methods=["POST"])
@admin_required
@blp.arguments(DeleteBody)
def delete_entries(body: dict):
    return jsonify({"status": retrieval.delete_entries(db(), body["collection_name"], body["file_id"])})
