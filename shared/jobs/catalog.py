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

from shared.jobs.enqueue import CLAIM_AHEAD, enqueue
from shared.providers.images import ImageRequest
from shared.models.job import Job

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
         parent_id: str | None = None, job_id: str | None = None) -> Job:
    """Enqueue the job ``spec`` with ``payload`` (``shared.jobs.enqueue.enqueue``): ``options`` add to,
    or override, the spec's own."""
    if not spec.tracked:
        raise ValueError(f"{spec.name} does not run as a job")
    if not isinstance(payload, spec.payload):
        raise TypeError(f"{spec.name} takes a {spec.payload.__name__}, not a {type(payload).__name__}")
    return enqueue(session, actor=spec.name, queue=spec.queue, kind=kind or spec.kind, owner_id=owner_id,
                   payload={item.name: getattr(payload, item.name) for item in fields(payload)},
                   related_type=related_type, related_id=related_id, options={**spec.options, **(options or {})},
                   parent_id=parent_id, job_id=job_id)


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


@dataclass(frozen=True)
class Embeddings(ModelCall):
    """Embeddings of ``body["input"]``."""


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

MARK_FILE_FAILED = JobSpec("files.mark_failed", "files", JobFailed, actor_options={"max_retries": 0},
                           tracked=False)
FILE_JOB_OPTIONS = {"on_failure": MARK_FILE_FAILED.name}
"""A file job's final failure is recorded on the file (Dramatiq's ``Callbacks``)."""
PROCESS_FILE = JobSpec("files.process", "files", ProcessFile, kind="file.process",
                       actor_options={"time_limit": 15 * MINUTE, "max_retries": 3}, options=FILE_JOB_OPTIONS)

INDEX_FILE = JobSpec("embeddings.index_file", "embeddings", IndexFile, kind="file.embed",
                     actor_options={"time_limit": 10 * MINUTE, "max_retries": 5}, options=FILE_JOB_OPTIONS)
INDEX_TEXT = JobSpec("embeddings.index_text", "embeddings", IndexText, kind="rag.index_text",
                     actor_options={"time_limit": 10 * MINUTE, "max_retries": 5})
QUERY = JobSpec("embeddings.query", "embeddings", Query, kind="rag.query",
                actor_options={"time_limit": MINUTE, "max_retries": 2})
INDEX_MEMORIES = JobSpec("embeddings.memory", "embeddings", IndexMemories, kind="memory.index",
                         actor_options={"time_limit": 10 * MINUTE, "max_retries": 5})
REINDEX = JobSpec("embeddings.reindex", "embeddings", Nothing, kind="rag.reindex",
                  actor_options={"time_limit": 6 * HOUR, "max_retries": 2})

SPECS: tuple[JobSpec, ...] = (
    NOOP, SLEEP, RESEND_STALE_JOBS, PRUNE_JOBS, PRUNE_REVOKED_TOKENS,
    PROXY, OLLAMA_OVERVIEW, VERIFY, CHAT_COMPLETION, REPLY_FAILED, EMBEDDINGS, REFRESH_MODELS, CHAT_TASKS,
    IMAGE_GENERATION, IMAGE_EDIT, IMAGE_MODELS, IMAGE_VERIFY, IMAGE_USE_MODEL, SPEECH, TRANSCRIPTION, SPEECH_LISTS,
    LEADERBOARD,
    MARK_FILE_FAILED, PROCESS_FILE,
    INDEX_FILE, INDEX_TEXT, QUERY, INDEX_MEMORIES, REINDEX,
)
"""Every job, by family (``jobs/system.py``, ``llm.py``, ``chat_tasks.py``, ``images.py``, ``audio.py``, ``evaluations.py``, ``files.py``,
``embeddings.py``)."""
SCHEDULED = tuple(spec for spec in SPECS if spec.every)
"""What the scheduler sends, each every ``spec.every`` seconds."""
