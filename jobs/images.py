"""Image jobs: generate or edit images with the configured engine, list its models, verify a server, switch
AUTOMATIC1111's checkpoint. The engine is read from the admin's settings when the job runs; the images are
kept as files of the user who asked, and the result is Open WebUI's list of ``{id, url, name, content_type}``."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog, current
from shared.providers import images as engines
from shared.services import images as image_service
from shared.services.llm import connections


def _progress() -> Callable[[float, str], None]:
    """A progress callback the engine may call from its own thread (AUTOMATIC1111's progress poll)."""
    job = current.running()

    def report(fraction: float, message: str) -> None:
        current.bind(job)
        current.progress(fraction, message)

    return report


@catalog.IMAGE_GENERATION.actor
def generate(job_id: str, prompt: str, model: str, width: int, height: int, size: str = "", n: int = 1,
             steps: int | None = None, negative_prompt: str | None = None, images: Sequence[str] = (), *,
             owner_id: str) -> list[dict]:
    job = catalog.ImageJob(prompt, model, width, height, size, n, steps, negative_prompt, tuple(images),
                           owner_id=owner_id)
    return image_service.make(job, editing=False, timeout=connections.answer_timeout(), on_progress=_progress())


@catalog.IMAGE_EDIT.actor
def edit(job_id: str, prompt: str, model: str, width: int, height: int, size: str = "", n: int = 1,
         steps: int | None = None, negative_prompt: str | None = None, images: Sequence[str] = (), *,
         owner_id: str) -> list[dict]:
    job = catalog.ImageJob(prompt, model, width, height, size, n, steps, negative_prompt, tuple(images),
                           owner_id=owner_id)
    return image_service.make(job, editing=True, timeout=connections.answer_timeout(), on_progress=_progress())


@catalog.IMAGE_MODELS.actor
def models(job_id: str) -> list[dict]:
    with session_scope() as session:
        engine = image_service.engine(session, timeout=connections.answer_timeout())
    return engines.models(engine)


@catalog.IMAGE_VERIFY.actor
def verify(job_id: str, engine: str, url: str, key: str | None = None) -> bool:
    engines.verify(engines.Engine(engine, url, key or "", timeout=connections.answer_timeout()))
    return True


@catalog.IMAGE_USE_MODEL.actor
def use_model(job_id: str, model: str) -> None:
    with session_scope() as session:
        engine = image_service.engine(session, timeout=connections.answer_timeout())
    engines.use_model(engine, model)
