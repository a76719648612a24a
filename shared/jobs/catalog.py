"""The job catalog: every job Switchyard runs, declared once.

A :class:`JobSpec` holds a job's contract: its actor's name and queue, the kind its rows get, the
actor's Dramatiq options, the options each of its messages carries, and its payload, a frozen dataclass
whose fields are the actor's keyword parameters (after ``job_id``). Senders enqueue with :func:`send`
(the web never imports ``jobs/``); actors are declared with ``@SPEC.actor``, so a name, a queue or an
option is written here only. ``tests/jobs/test_catalog.py`` fails when a spec and its actor disagree.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

import dramatiq
from sqlalchemy.orm import Session

from shared.jobs import enqueue as protocol
from shared.jobs.enqueue import CLAIM_AHEAD, enqueue
from shared.providers.images import ImageRequest
from shared.models.job import Job
from shared.services import rate_limits

P = TypeVar("P")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class JobSpec(Generic[P]):
    """One job's contract; ``payload`` is the dataclass of the actor's keyword parameters."""

    name: str
    queue: str
    payload: type[P]
    kind: str = ""
    """The ``job.kind`` of its rows, unless the sender names a more specific one (``ollama.pull``)."""
    actor_options: Mapping[str, Any] = field(default_factory=dict)
    """Dramatiq actor options: ``max_retries``, ``min_backoff``/``max_backoff`` (ms), ``time_limit`` (ms)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Message options every job of this spec is sent with (``CLAIM_AHEAD``, ``on_failure``)."""
    every: int | None = None
    """Seconds between runs, for a job the scheduler sends (``workers.scheduler``); such a message carries
    no ``job_id`` (the actor's ``job_id`` defaults to None if it is sent as a job too)."""
    tracked: bool = True
    """Whether it runs as a job (a row, called with ``job_id``); False for scheduled housekeeping and
    Dramatiq callbacks."""

    def actor(self, fn: F) -> F:
        """Declare ``fn`` as this job's actor (on the global broker: import ``workers.runtime`` first)."""
        return dramatiq.actor(fn, actor_name=self.name, queue_name=self.queue, **self.actor_options)


def send(session: Session, spec: JobSpec[P], payload: P, *, owner_id: str | None, kind: str | None = None,
         related_type: str | None = None, related_id: str | None = None, options: dict | None = None,
         parent_id: str | None = None, job_id: str | None = None, resend_later: bool = False) -> Job:
    """Enqueue the job ``spec`` with ``payload`` (``shared.jobs.enqueue.enqueue``): ``options`` add to,
    or override, the spec's own.

    A job a user starts counts against the user's cap on active jobs (429 past it); what a running job sends
    (its follow-ups, its parts) belongs to work already accepted and is not refused."""
    if not spec.tracked:
        raise ValueError(f"{spec.name} does not run as a job")
    if not isinstance(payload, spec.payload):
        raise TypeError(f"{spec.name} takes a {spec.payload.__name__}, not a {type(payload).__name__}")
    from shared.jobs import current  # it imports the job service, which imports this module

    if owner_id is not None and parent_id is None and current.running() is None:
        rate_limits.check_active_jobs(session, owner_id)
    return enqueue(session, actor=spec.name, queue=spec.queue, kind=kind or spec.kind, owner_id=owner_id,
                   payload={item.name: getattr(payload, item.name) for item in fields(payload)},
                   related_type=related_type, related_id=related_id, options={**spec.options, **(options or {})},
                   parent_id=parent_id, job_id=job_id, resend_later=resend_later)


def stage(session: Session, spec: JobSpec[P], payload: P, *, related_type: str | None = None,
          related_id: str | None = None, options: dict | None = None, job_id: str | None = None) -> Job:
    """Add the job ``spec`` to the caller's transaction, sent when it commits (``shared.jobs.enqueue.stage``):
    for work that exists only if the caller's changes do, such as the deliveries of an event. Such work
    belongs to no user (no cap on active jobs applies)."""
    if not spec.tracked or not isinstance(payload, spec.payload):
        raise TypeError(f"{spec.name} takes a {spec.payload.__name__} and runs as a job")
    return protocol.stage(session, actor=spec.name, queue=spec.queue, kind=spec.kind, owner_id=None,
                          payload={item.name: getattr(payload, item.name) for item in fields(payload)},
                          related_type=related_type, related_id=related_id,
                          options={**spec.options, **(options or {})}, job_id=job_id)


# -- payloads ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nothing:
    """A job without parameters."""


@dataclass(frozen=True)
class Noop:
    value: Any = None


@dataclass(frozen=True)
class Sleep:
    seconds: float = 1.0
    steps: int = 10


@dataclass(frozen=True)
class Proxy:
    """One call to one upstream connection."""

    provider: str
    url_idx: int
    method: str
    path: str
    body: dict | None = None
    stream: bool = False


@dataclass(frozen=True)
class OllamaOverview:
    path: str
    """``/api/version`` or ``/api/ps``."""


@dataclass(frozen=True)
class Verify:
    """An upstream connection to check before it is saved."""

    provider: str
    url: str
    key: str | None = None
    config: dict | None = None


@dataclass(frozen=True)
class ModelCall:
    """A model called on one connection (its kind and index) with an OpenAI-format request."""

    provider: str
    url_idx: int
    model: str
    body: dict


@dataclass(frozen=True)
class ChatCompletion(ModelCall):
    owner_id: str
    background: dict | None = None
    """The web app's reply: ``chat_id``, ``message_id``, ``session_id``, ``tasks``."""
    rag: dict | None = None
    selected_model_id: str | None = None
    """The model an arena model picked (announced first, and saved on the reply)."""
    filter_ids: tuple[str, ...] = ()
    """The filter functions the call goes through (inlet before it, outlet after), in order."""
    tools: dict | None = None
    """Function name -> tool id of the tools offered in ``body["tools"]``, which the job runs when called."""
    tool_selection: dict | None = None
    """Legacy tool calling: ``messages`` asking the model which ``tools`` to call before it answers, and the
    ``specs`` by name."""


@dataclass(frozen=True)
class Embeddings(ModelCall):
    """Embeddings of ``body["input"]``."""


@dataclass(frozen=True)
class PipelinesChange:
    """A call that changes the pipelines of the Pipelines server at OpenAI connection ``url_idx`` (add, delete,
    valves), or uploads the file kept under ``upload_key`` in the file storage as ``filename``."""

    url_idx: int
    method: str
    path: str
    body: dict | None = None
    upload_key: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class PipelinesOutlet:
    """Messages to pass through the outlet filters of their model (``/api/chat/completed``): the Pipelines
    servers' aimed at it, then the filter functions ``filter_ids``."""

    owner_id: str
    body: dict
    filter_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatTasks:
    """Title, tags and follow-ups after the reply ``message_id``."""

    owner_id: str
    chat_id: str
    message_id: str
    model: str
    tasks: dict


@dataclass(frozen=True)
class ProcessFile:
    file_id: str
    collection_name: str | None = None
    use_content: bool = False
    """Index the text set through the API instead of extracting it."""


@dataclass(frozen=True)
class SkillUrl:
    """Where to download skills from (``/api/v1/skills/load/url``)."""

    url: str


@dataclass(frozen=True)
class JobFailed:
    """What Dramatiq hands an ``on_failure`` callback."""

    message_data: dict
    exception_data: dict


@dataclass(frozen=True)
class IndexFile:
    file_id: str
    collection_name: str | None = None


@dataclass(frozen=True)
class IndexText:
    collection_name: str
    name: str
    content: str
    user_id: str


@dataclass(frozen=True)
class FilesBatch:
    """Texts of the user's files (``[{file_id, content}]``) to chunk, embed and add to ``collection_name``."""

    collection_name: str
    user_id: str
    files: list[dict]


@dataclass(frozen=True)
class ProcessWeb:
    """Load the page at ``url`` into ``collection_name``."""

    url: str
    collection_name: str
    user_id: str


@dataclass(frozen=True)
class ProcessUrl:
    """Load ``url`` as Open WebUI's ``process/url`` does: a page or a video's transcript, else a file."""

    url: str
    collection_name: str | None
    user_id: str
    process: bool = True


@dataclass(frozen=True)
class WebSearch:
    """Search the web for ``queries``, load and index the hits."""

    queries: list[str]
    user_id: str


@dataclass(frozen=True)
class Query:
    """Embed ``query`` and search the collections."""

    collection_names: list[str]
    query: str
    k: int
    r: float | None = None
    hybrid: bool | None = None


@dataclass(frozen=True)
class IndexMemories:
    user_id: str


@dataclass(frozen=True)
class KnowledgeMetadata:
    """A knowledge base whose name and description are embedded again."""

    knowledge_id: str


@dataclass(frozen=True)
class ImageJob(ImageRequest):
    """An image request (generate, or edit its ``images``) made for ``owner_id``, whose files they become."""

    owner_id: str = field(kw_only=True)


@dataclass(frozen=True)
class ImageVerify:
    engine: str
    url: str
    key: str | None = None


@dataclass(frozen=True)
class ImageModel:
    model: str


@dataclass(frozen=True)
class Speech:
    """``text`` to speak, kept in the file storage under ``key`` (the speech cache)."""

    text: str
    voice: str
    key: str


@dataclass(frozen=True)
class Transcription:
    """The recording kept under ``key`` in the file storage."""

    key: str
    filename: str
    content_type: str
    language: str | None = None


@dataclass(frozen=True)
class SpeechList:
    what: str
    """``models`` or ``voices`` of the TTS engine."""


@dataclass(frozen=True)
class Leaderboard:
    query: str | None = None
    """Re-rank by how close each feedback's tags are to this; without it the result is also cached."""


@dataclass(frozen=True)
class SaveExtension:
    """User code (a tool or a function) to load in the sandbox and store with what was read from it."""

    kind: str
    """``tool`` or ``function``."""
    id: str
    owner_id: str
    form: dict
    creating: bool


@dataclass(frozen=True)
class SyncFunctions:
    """The whole set of functions an admin sends (``/api/v1/functions/sync``): each loaded, then stored."""

    owner_id: str
    items: list
    """Open WebUI's ``FunctionWithValvesModel`` forms (id, name, content, meta, valves, switches)."""


@dataclass(frozen=True)
class ToolServer:
    """A tool or terminal server's settings, to check it before they are saved."""

    server: dict


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth client to build for a tool server: ``client_secret`` (stored encrypted) set means the admin's
    static credentials, else dynamic registration (Open WebUI's ``OAuthClientRegistrationForm``)."""

    server_url: str
    client_id: str
    redirect_uri: str
    client_secret: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class ExternalConnection:
    """An external knowledge connection (its id) to reach."""

    connection_id: str


@dataclass(frozen=True)
class ExternalRetrieveTest:
    """A query against a source of an external knowledge connection (stored form: secrets encrypted)."""

    connection: dict
    source: dict
    query: str
    count: int


@dataclass(frozen=True)
class ExternalSourceSave:
    """An external connection and its knowledge base (``knowledge``: name, description, grants), to keep once
    the test query finds something; ``knowledge_id`` when an existing base changes."""

    connection: dict
    source: dict
    query: str
    count: int
    user_id: str
    knowledge: dict
    knowledge_id: str | None = None


@dataclass(frozen=True)
class ToolServerSpecs:
    """An MCP tool server (``server:mcp:<id>``) whose tools to list."""

    tool_id: str


@dataclass(frozen=True)
class CodeUrl:
    """Where to download a tool's or function's code from."""

    url: str


@dataclass(frozen=True)
class ExecuteCode:
    """A snippet of Python to run in the code-execution sandbox (``POST /api/v1/utils/code/execute``)."""

    code: str


@dataclass(frozen=True)
class CallExtension:
    """One method of stored user code called in the sandbox (a filter's ``inlet`` ...), for ``owner_id``."""

    kind: str
    id: str
    owner_id: str
    method: str
    args: dict
    extra: dict
    """The injected parameters the method may declare (``__user__``, ``__metadata__`` ...)."""
    deliver: bool = False
    """Also send the events the code emits to the browsers of ``extra``'s chat and message (an action)."""


@dataclass(frozen=True)
class ServeExtension:
    """One method of stored user code kept loaded for many calls, each pushed to the job's inbox
    (``shared.extensions.calls.Session``)."""

    kind: str
    id: str
    owner_id: str
    method: str
    extra: dict


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one webhook (the ``webhook_delivery`` row holds the body and the URL's webhook)."""

    delivery_id: str


# -- the jobs ---------------------------------------------------------------------------------------
INTERACTIVE = {"max_retries": 2, "min_backoff": 200, "max_backoff": 1000}
"""Someone waits for the answer: retry quickly and give up soon."""
MINUTE = 60 * 1000
HOUR = 60 * MINUTE

NOOP = JobSpec("system.noop", "default", Noop, kind="system.probe",
               actor_options={"max_retries": 0, "time_limit": 10_000})
SLEEP = JobSpec("system.sleep", "default", Sleep, kind="system.probe",
                actor_options={"max_retries": 0, "time_limit": HOUR})
RESEND_STALE_JOBS = JobSpec("system.resend_stale_jobs", "default", Nothing, actor_options={"max_retries": 0},
                            every=30, tracked=False)
PRUNE_JOBS = JobSpec("system.prune_jobs", "default", Nothing, actor_options={"max_retries": 0},
                     every=3600, tracked=False)
PRUNE_REVOKED_TOKENS = JobSpec("system.prune_revoked_tokens", "default", Nothing,
                               actor_options={"max_retries": 3}, every=3600, tracked=False)

PROXY = JobSpec("llm.proxy", "llm", Proxy, kind="llm.proxy",
                actor_options={"time_limit": 30 * MINUTE, **INTERACTIVE})
OLLAMA_OVERVIEW = JobSpec("llm.ollama_overview", "llm", OllamaOverview, kind="ollama.overview",
                          actor_options={"time_limit": MINUTE, "max_retries": 0})
VERIFY = JobSpec("llm.verify", "llm", Verify, kind="connection.verify",
                 actor_options={"time_limit": MINUTE, "max_retries": 0})
CHAT_COMPLETION = JobSpec("llm.chat_completion", "llm", ChatCompletion, kind="chat.completion",
                          actor_options={"time_limit": 30 * MINUTE, **INTERACTIVE})
EMBEDDINGS = JobSpec("llm.embeddings", "llm", Embeddings, kind="embeddings",
                     actor_options={"time_limit": 10 * MINUTE, **INTERACTIVE}, options={CLAIM_AHEAD: True})
REFRESH_MODELS = JobSpec("llm.refresh_models", "llm", Nothing, kind="models.refresh",
                         actor_options={"time_limit": 5 * MINUTE, "max_retries": 0}, every=300)
PIPELINES_CHANGE = JobSpec("pipelines.change", "pipelines", PipelinesChange, kind="pipelines.change",
                           actor_options={"time_limit": 15 * MINUTE, "max_retries": 0})
PIPELINES_OUTLET = JobSpec("pipelines.outlet", "pipelines", PipelinesOutlet, kind="pipelines.outlet",
                           actor_options={"time_limit": 10 * MINUTE, "max_retries": 0})
CHAT_TASKS = JobSpec("chat_tasks.generate", "llm", ChatTasks, kind="chat.tasks",
                     actor_options={"time_limit": 5 * MINUTE, "max_retries": 1})

REPLY_FAILED = JobSpec("llm.reply_failed", "llm", JobFailed, actor_options={"max_retries": 0}, tracked=False)
REPLY_OPTIONS = {"on_failure": REPLY_FAILED.name}
"""A web-app reply whose job fails for good shows the error in the chat (Dramatiq's ``Callbacks``)."""

IMAGE_GENERATION = JobSpec("images.generate", "images", ImageJob, kind="image.generation",
                            actor_options={"time_limit": 15 * MINUTE, **INTERACTIVE})
IMAGE_EDIT = JobSpec("images.edit", "images", ImageJob, kind="image.edit",
                     actor_options={"time_limit": 15 * MINUTE, **INTERACTIVE})
IMAGE_MODELS = JobSpec("images.models", "images", Nothing, kind="image.models",
                       actor_options={"time_limit": MINUTE, "max_retries": 0})
IMAGE_VERIFY = JobSpec("images.verify", "images", ImageVerify, kind="image.verify",
                       actor_options={"time_limit": MINUTE, "max_retries": 0})
IMAGE_USE_MODEL = JobSpec("images.use_model", "images", ImageModel, kind="image.use_model",
                          actor_options={"time_limit": 10 * MINUTE, "max_retries": 2})

SPEECH = JobSpec("audio.speech", "audio", Speech, kind="audio.speech",
                 actor_options={"time_limit": 5 * MINUTE, **INTERACTIVE})
TRANSCRIPTION = JobSpec("audio.transcribe", "audio", Transcription, kind="audio.transcription",
                        actor_options={"time_limit": 15 * MINUTE, **INTERACTIVE})
SPEECH_LISTS = JobSpec("audio.lists", "audio", SpeechList, kind="audio.lists",
                       actor_options={"time_limit": MINUTE, "max_retries": 0})

LEADERBOARD = JobSpec("evaluations.leaderboard", "evaluations", Leaderboard, kind="evaluations.leaderboard",
                      actor_options={"time_limit": 10 * MINUTE, "max_retries": 2})

SAVE_EXTENSION = JobSpec("extensions.save", "extensions", SaveExtension, kind="extensions.save",
                         actor_options={"time_limit": 2 * MINUTE, "max_retries": 0})
SYNC_FUNCTIONS = JobSpec("extensions.sync_functions", "extensions", SyncFunctions, kind="functions.sync",
                         actor_options={"time_limit": 10 * MINUTE, "max_retries": 0})
LOAD_CODE_URL = JobSpec("extensions.load_url", "extensions", CodeUrl, kind="extensions.load_url",
                        actor_options={"time_limit": 2 * MINUTE, "max_retries": 0})
TOOL_SERVER_DOCUMENTS = JobSpec("extensions.tool_server_documents", "extensions", Nothing,
                                kind="tool_servers.refresh", actor_options={"time_limit": 5 * MINUTE, "max_retries": 0})
VERIFY_TOOL_SERVER = JobSpec("extensions.verify_tool_server", "extensions", ToolServer, kind="tool_servers.verify",
                             actor_options={"time_limit": MINUTE, "max_retries": 0})
VERIFY_TERMINAL_SERVER = JobSpec("extensions.verify_terminal_server", "extensions", ToolServer,
                                 kind="terminal_servers.verify", actor_options={"time_limit": MINUTE, "max_retries": 0})
REGISTER_OAUTH_CLIENT = JobSpec("extensions.register_oauth_client", "extensions", OAuthClient,
                                kind="oauth_clients.register", actor_options={"time_limit": MINUTE, "max_retries": 0})
MCP_SPECS = JobSpec("extensions.mcp_specs", "extensions", ToolServerSpecs, kind="tool_servers.specs",
                    actor_options={"time_limit": MINUTE, "max_retries": 0})
EXECUTE_CODE = JobSpec("extensions.execute_code", "extensions", ExecuteCode, kind="code.execute",
                       actor_options={"time_limit": 10 * MINUTE, "max_retries": 0})
CALL_EXTENSION = JobSpec("extensions.call", "extensions", CallExtension, kind="extensions.call",
                         actor_options={"time_limit": 10 * MINUTE, "max_retries": 0}, options={CLAIM_AHEAD: True})
SERVE_EXTENSION = JobSpec("extensions.serve", "extensions", ServeExtension, kind="extensions.serve",
                          actor_options={"time_limit": HOUR, "max_retries": 0}, options={CLAIM_AHEAD: True})

MARK_FILE_FAILED = JobSpec("files.mark_failed", "files", JobFailed, actor_options={"max_retries": 0},
                           tracked=False)
FILE_JOB_OPTIONS = {"on_failure": MARK_FILE_FAILED.name}
"""A file job's final failure is recorded on the file (Dramatiq's ``Callbacks``)."""
PROCESS_FILE = JobSpec("files.process", "files", ProcessFile, kind="file.process",
                       actor_options={"time_limit": 15 * MINUTE, "max_retries": 3}, options=FILE_JOB_OPTIONS)
RESET_UPLOADS = JobSpec("files.reset_uploads", "files", Nothing, kind="files.reset_uploads",
                        actor_options={"time_limit": HOUR, "max_retries": 2})
LOAD_SKILL_URL = JobSpec("files.load_skill_url", "files", SkillUrl, kind="skill.load_url",
                         actor_options={"time_limit": 2 * MINUTE, "max_retries": 0})

INDEX_FILE = JobSpec("embeddings.index_file", "embeddings", IndexFile, kind="file.embed",
                     actor_options={"time_limit": 10 * MINUTE, "max_retries": 5}, options=FILE_JOB_OPTIONS)
INDEX_TEXT = JobSpec("embeddings.index_text", "embeddings", IndexText, kind="rag.index_text",
                     actor_options={"time_limit": 10 * MINUTE, "max_retries": 5})
INDEX_FILES_BATCH = JobSpec("embeddings.index_files_batch", "embeddings", FilesBatch, kind="rag.files_batch",
                            actor_options={"time_limit": 30 * MINUTE, "max_retries": 3})
QUERY = JobSpec("embeddings.query", "embeddings", Query, kind="rag.query",
                actor_options={"time_limit": MINUTE, "max_retries": 2})
TEST_EXTERNAL_CONNECTION = JobSpec("external_knowledge.test_connection", "embeddings", ExternalConnection,
                                   kind="external_knowledge.test", actor_options={"time_limit": MINUTE,
                                                                                  "max_retries": 0})
EXTERNAL_RETRIEVE_TEST = JobSpec("external_knowledge.retrieve_test", "embeddings", ExternalRetrieveTest,
                                 kind="external_knowledge.retrieve_test",
                                 actor_options={"time_limit": MINUTE, "max_retries": 0})
SAVE_EXTERNAL_SOURCE = JobSpec("external_knowledge.save_source", "embeddings", ExternalSourceSave,
                               kind="external_knowledge.save_source",
                               actor_options={"time_limit": MINUTE, "max_retries": 0})
INDEX_MEMORIES = JobSpec("embeddings.memory", "embeddings", IndexMemories, kind="memory.index",
                         actor_options={"time_limit": 10 * MINUTE, "max_retries": 5})
REINDEX = JobSpec("embeddings.reindex", "embeddings", Nothing, kind="rag.reindex",
                  actor_options={"time_limit": 6 * HOUR, "max_retries": 2})
REINDEX_MEMORIES = JobSpec("embeddings.reindex_memories", "embeddings", Nothing, kind="memory.reindex",
                           actor_options={"time_limit": HOUR, "max_retries": 2})
REINDEX_KNOWLEDGE = JobSpec("embeddings.reindex_knowledge", "embeddings", Nothing, kind="knowledge.reindex",
                            actor_options={"time_limit": 6 * HOUR, "max_retries": 2})
INDEX_KNOWLEDGE_METADATA = JobSpec("embeddings.knowledge_metadata", "embeddings", KnowledgeMetadata,
                                   kind="knowledge.metadata", actor_options={"time_limit": 5 * MINUTE, "max_retries": 3})
REINDEX_KNOWLEDGE_METADATA = JobSpec("embeddings.reindex_knowledge_metadata", "embeddings", Nothing,
                                     kind="knowledge.metadata_reindex",
                                     actor_options={"time_limit": HOUR, "max_retries": 2})
RESET_VECTORS = JobSpec("embeddings.reset", "embeddings", Nothing, kind="rag.reset",
                        actor_options={"time_limit": HOUR, "max_retries": 2})

PROCESS_WEB = JobSpec("web.process", "files", ProcessWeb, kind="rag.process_web",
                      actor_options={"time_limit": 5 * MINUTE, "max_retries": 2})
PROCESS_URL = JobSpec("web.process_url", "files", ProcessUrl, kind="rag.process_url",
                      actor_options={"time_limit": 5 * MINUTE, "max_retries": 2})
WEB_SEARCH = JobSpec("web.search", "files", WebSearch, kind="rag.web_search",
                     actor_options={"time_limit": 5 * MINUTE, "max_retries": 1})

WEBHOOK_DEAD = JobSpec("webhooks.dead", "webhooks", JobFailed, actor_options={"max_retries": 0}, tracked=False)
WEBHOOK_DELIVERY = JobSpec("webhooks.deliver", "webhooks", Delivery, kind="webhook.delivery",
                           actor_options={"time_limit": 2 * MINUTE}, options={"on_failure": WEBHOOK_DEAD.name})
"""Retries and backoff come with each message (``shared.services.app_events``: ``WEBHOOK_*`` settings); a delivery
whose last attempt failed becomes a dead letter (Dramatiq's ``Callbacks``)."""
PRUNE_WEBHOOK_DELIVERIES = JobSpec("webhooks.prune_deliveries", "webhooks", Nothing,
                                   actor_options={"max_retries": 0}, every=3600, tracked=False)

SPECS: tuple[JobSpec, ...] = (
    NOOP, SLEEP, RESEND_STALE_JOBS, PRUNE_JOBS, PRUNE_REVOKED_TOKENS,
    PROXY, OLLAMA_OVERVIEW, VERIFY, CHAT_COMPLETION, REPLY_FAILED, EMBEDDINGS, REFRESH_MODELS, CHAT_TASKS,
    PIPELINES_CHANGE, PIPELINES_OUTLET,
    IMAGE_GENERATION, IMAGE_EDIT, IMAGE_MODELS, IMAGE_VERIFY, IMAGE_USE_MODEL, SPEECH, TRANSCRIPTION, SPEECH_LISTS,
    LEADERBOARD, SAVE_EXTENSION, SYNC_FUNCTIONS, LOAD_CODE_URL, TOOL_SERVER_DOCUMENTS, VERIFY_TOOL_SERVER, MCP_SPECS,
    REGISTER_OAUTH_CLIENT,
    VERIFY_TERMINAL_SERVER, CALL_EXTENSION, SERVE_EXTENSION, EXECUTE_CODE,
    MARK_FILE_FAILED, PROCESS_FILE, RESET_UPLOADS, LOAD_SKILL_URL,
    INDEX_FILE, INDEX_TEXT, INDEX_FILES_BATCH, QUERY, INDEX_MEMORIES, REINDEX, REINDEX_MEMORIES, REINDEX_KNOWLEDGE, RESET_VECTORS,
    INDEX_KNOWLEDGE_METADATA, REINDEX_KNOWLEDGE_METADATA,
    PROCESS_WEB, PROCESS_URL, WEB_SEARCH,
    WEBHOOK_DEAD, WEBHOOK_DELIVERY, PRUNE_WEBHOOK_DELIVERIES,
    TEST_EXTERNAL_CONNECTION, EXTERNAL_RETRIEVE_TEST, SAVE_EXTERNAL_SOURCE,
)
"""Every job, by family (``jobs/system.py``, ``llm.py``, ``chat_tasks.py``, ``pipelines.py``, ``images.py``,
``audio.py``, ``evaluations.py``, ``extensions.py``, ``files.py``, ``embeddings.py``, ``web.py``,
``webhooks.py``, ``external_knowledge.py``)."""
SCHEDULED = tuple(spec for spec in SPECS if spec.every)
"""What the scheduler sends, each every ``spec.every`` seconds."""
