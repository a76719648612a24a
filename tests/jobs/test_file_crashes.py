"""A worker process killed while it embeds an upload (what the OOM killer does to a worker parsing a huge
file): the pool that runs it (the Procfile's ``worker``) stays up and starts a new process, which embeds the
file again once the message is delivered again; the file ends up processed once, with each chunk stored once."""
from __future__ import annotations

import os
import signal

from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Chunk, Job
from tests.e2e.test_job_faults import FAST_REDELIVERY
from tests.helpers import bearer, wait_for
from tests.jobs.test_lifecycle import finish
from tests.jobs.worker import running_worker
from tests.rag_support import EMBEDDING_MODEL, fake_ollama, upload, wait_processed  # noqa: F401

TEXT = "\n\n".join(f"Paragraph {i} is about topic{i}. " + "filler words " * 12 for i in range(16))
BATCH = 2
EMBED_DELAY = 0.4
"""Seconds the fake takes per embedding request: with batches of two the file embeds for a few seconds."""


def jobs_of(file_id: str) -> dict[str, Job]:
    with session_scope() as session:
        return {j.kind: j for j in session.scalars(select(Job).where(Job.related_id == file_id))}


def stored_chunks(file_id: str) -> tuple[int, int]:
    """(rows, distinct chunk texts) stored for the file."""
    with session_scope() as session:
        where = Chunk.file_id == file_id
        return (session.scalar(select(func.count()).select_from(Chunk).where(where)),
                session.scalar(select(func.count(func.distinct(Chunk.text))).where(where)))


def test_a_pooled_worker_process_killed_mid_embedding_is_replaced_and_the_file_is_processed_once(
        client, admin, fake_ollama):
    headers = bearer(admin["token"])
    fake_ollama.reset()
    with running_worker(modules=(), env=FAST_REDELIVERY, pool=True) as pooled:
        changed = client.post("/api/v1/retrieval/embedding/update", headers=headers, json={
            "RAG_EMBEDDING_ENGINE": "ollama", "RAG_EMBEDDING_MODEL": EMBEDDING_MODEL,
            "RAG_EMBEDDING_BATCH_SIZE": BATCH, "ollama_config": {"url": fake_ollama.url, "key": ""}}).get_json()
        if changed.get("reindex_job_id"):
            finish(changed["reindex_job_id"], timeout=30)
        assert client.post("/api/v1/retrieval/config/update", headers=headers,
                           json={"CHUNK_SIZE": 200, "CHUNK_OVERLAP": 0}).status_code == 200
        fake_ollama.behave(first_delay=EMBED_DELAY)

        file = upload(client, admin["token"], TEXT.encode(), "topics.txt")
        wait_for(lambda: len(fake_ollama.received("/api/embed")) >= 2, "the file never began embedding", 30)
        [dramatiq_main] = pooled.child_pids()
        [worker_process] = pooled.child_pids(dramatiq_main)
        os.kill(worker_process, signal.SIGKILL)
        wait_for(lambda: pooled.output().count("is ready for action") == 2, "the pool never replaced it", 30)
        assert pooled.process.poll() is None

        assert wait_processed(client, admin["token"], file["id"])[-1] == {"status": "completed"}
    embed = jobs_of(file["id"])["file.embed"]
    assert (embed.status, embed.attempts) == ("succeeded", 2)
    rows, distinct = stored_chunks(file["id"])
    assert rows == distinct == embed.result["chunks"] > 2 * BATCH
