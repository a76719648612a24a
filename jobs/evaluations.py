"""Evaluation jobs: the leaderboard, computed from all feedback (and cached), or re-ranked for a query by the
configured embedding engine."""
from __future__ import annotations

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog
from shared.rag.embedding import get_embedder
from shared.services import evaluations


@catalog.LEADERBOARD.actor
def leaderboard(job_id: str, query: str | None = None) -> dict:
    computed_for = evaluations.version()
    with session_scope() as session:
        feedbacks = evaluations.rated(session)
        embedder = get_embedder(session) if query else None
    if embedder is None:
        board = evaluations.leaderboard(feedbacks)
        evaluations.remember(board, computed_for)
        return board
    tags = evaluations.feedback_tags(feedbacks)
    weights = evaluations.similarities(feedbacks, embedder.embed([query, *tags]), tags) if tags else None
    return evaluations.leaderboard(feedbacks, weights)
