"""External knowledge jobs (``embeddings`` queue, beside retrieval queries): reach an admin's vector store,
try a query against one of its collections, keep a source once its test query finds something."""
from __future__ import annotations

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog
from shared.services import external_knowledge


@catalog.TEST_EXTERNAL_CONNECTION.actor
def test_connection(job_id: str, connection_id: str) -> dict:
    """Reach the store; its health, kept on the connection."""
    with session_scope() as session:
        return external_knowledge.check_connection(session, connection_id)


@catalog.EXTERNAL_RETRIEVE_TEST.actor
def retrieve_test(job_id: str, connection: dict, source: dict, query: str, count: int) -> dict:
    """Embed the query with our embedder and ask the store for its nearest points."""
    with session_scope() as session:
        return external_knowledge.retrieve_test(session, connection, source, query, count)


@catalog.SAVE_EXTERNAL_SOURCE.actor
def save_source(job_id: str, connection: dict, source: dict, query: str, count: int, user_id: str,
                knowledge: dict, knowledge_id: str | None = None) -> dict:
    """Try the source, then keep its connection and knowledge base."""
    with session_scope() as session:
        return external_knowledge.save_source(session, connection, source, query, count, user_id, knowledge,
                                              knowledge_id)
