"""Evaluations: the ratings users give replies (feedback), the arena settings, and the leaderboard.

The leaderboard is Open WebUI's Elo (every model starts at 1000, K = 32, a rating against each sibling model of
the comparison), computed by a job (``evaluations.leaderboard``) whenever feedback changes and kept in Redis; a
query re-ranks by weighting each feedback with how close its tags are to the query (the configured embedding
engine), also in the job.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared import messages
from shared.errors import NotFound
from shared.jobs import catalog
from shared.models import Feedback, Job, User
from shared.models.base import now
from shared.redis_client import get_redis, key
from shared.services import app_config

CONFIG_KEYS = {"ENABLE_EVALUATION_ARENA_MODELS": "evaluation.arena.enable",
               "EVALUATION_ARENA_MODELS": "evaluation.arena.models"}
CONFIG_DEFAULTS = {"evaluation.arena.enable": lambda _s: True, "evaluation.arena.models": lambda _s: []}
DEFAULT_ARENA_MODEL = {
    "id": "arena-model", "name": "Arena Model",
    "meta": {"profile_image_url": "/favicon.png", "model_ids": None,
             "description": "Submit your questions to anonymous AI chatbots and vote on the best response."},
}
"""What Open WebUI lists while the arena is on and no arena model is configured."""
PAGE_SIZE = 30
K_FACTOR = 32
START_RATING = 1000.0
TOP_TAGS = 5
ORDERS = {"updated_at": Feedback.updated_at, "created_at": Feedback.created_at, "username": User.name}
"""What the admin's list may be ordered by (plus the JSON fields ``model_id`` and ``rating``)."""


# -- settings ----------------------------------------------------------------------------------------
def read_config(session: Session) -> dict:
    return app_config.get_fields(session, CONFIG_KEYS)


def arena_models(session: Session) -> list[dict]:
    """The arena models ``/api/models`` lists (none while the arena is off)."""
    settings = app_config.get_many(session, list(CONFIG_KEYS.values()))
    if not settings["evaluation.arena.enable"]:
        return []
    return settings["evaluation.arena.models"] or [DEFAULT_ARENA_MODEL]


def update_config(session: Session, form: dict) -> dict:
    app_config.set_fields(session, CONFIG_KEYS, {field: value for field, value in form.items() if value is not None})
    return read_config(session)


# -- feedback ----------------------------------------------------------------------------------------
def feedback_json(feedback: Feedback, *, snapshot: bool = True) -> dict:
    """Open WebUI's ``FeedbackModel`` (without the snapshot: its ``FeedbackResponse``)."""
    out = {"id": feedback.id, "user_id": feedback.user_id, "version": feedback.version, "type": feedback.type,
           "data": feedback.data, "meta": feedback.meta, "created_at": feedback.created_at,
           "updated_at": feedback.updated_at}
    return {**out, "snapshot": feedback.snapshot} if snapshot else out


def _own(session: Session, user: User, feedback_id: str) -> Feedback:
    """A feedback the caller may see and change: any for an admin, their own for a user; else 404."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None or (user.role != "admin" and feedback.user_id != user.id):
        raise NotFound(messages.NOT_FOUND)
    return feedback


CHANGED = "evaluations.feedback_changed"
"""``session.info`` key: the transaction changes feedback, so the leaderboard's version moves on once it commits."""


def _changed(session: Session, user: User) -> None:
    """The leaderboard is out of date: a new version and a job that computes it, both once this transaction
    commits. Bumped before the commit, the version could be read by a job that still saw the old feedback,
    which would then keep a stale board under the new version."""
    session.info[CHANGED] = True
    catalog.send(session, catalog.LEADERBOARD, catalog.Leaderboard(), owner_id=user.id)


def install_listeners(factory: sessionmaker) -> None:
    """Move the leaderboard's version on after each commit that changed feedback."""
    event.listen(factory, "after_commit", _bump_version)
    event.listen(factory, "after_rollback", _forget_change)


def _bump_version(session: Session) -> None:
    if session.info.pop(CHANGED, None):
        get_redis().incr(_version_key())


def _forget_change(session: Session) -> None:
    session.info.pop(CHANGED, None)


def create(session: Session, user: User, form: dict) -> Feedback:
    feedback = Feedback(user_id=user.id, version=0, type=form["type"], data=form.get("data"), meta=form.get("meta"),
                        snapshot=form.get("snapshot"))
    session.add(feedback)
    session.flush()
    _changed(session, user)
    return feedback


def get(session: Session, user: User, feedback_id: str) -> Feedback:
    return _own(session, user, feedback_id)


def update(session: Session, user: User, feedback_id: str, form: dict) -> Feedback:
    feedback = _own(session, user, feedback_id)
    feedback.type, feedback.data, feedback.meta = form["type"], form.get("data"), form.get("meta")
    if form.get("snapshot") is not None:
        feedback.snapshot = form["snapshot"]
    feedback.updated_at = now()
    session.flush()
    _changed(session, user)
    return feedback


def delete_one(session: Session, user: User, feedback_id: str) -> None:
    session.delete(_own(session, user, feedback_id))
    session.flush()
    _changed(session, user)


def delete_all(session: Session, user: User, *, everyone: bool) -> bool:
    """The caller's feedback, or (an admin's ``everyone``) all of it."""
    statement = delete(Feedback) if everyone else delete(Feedback).where(Feedback.user_id == user.id)
    session.execute(statement)
    _changed(session, user)
    return True


def _user_json(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
            "last_active_at": user.last_active_at, "updated_at": user.updated_at, "created_at": user.created_at}


def _page(session: Session, statement, page: int) -> dict:
    """``{items, total}`` of ``FeedbackUserResponse``: each feedback with its author, 30 a page."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.execute(statement.offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return {"items": [{**feedback_json(feedback, snapshot=False), "user": _user_json(author)}
                      for feedback, author in rows], "total": total}


def user_list(session: Session, user: User, page: int) -> dict:
    statement = (select(Feedback, User).outerjoin(User, User.id == Feedback.user_id)
                 .where(Feedback.user_id == user.id).order_by(Feedback.created_at.desc()))
    return _page(session, statement, page)


def admin_list(session: Session, page: int, order_by: str | None, direction: str | None,
               model_id: str | None) -> dict:
    statement = select(Feedback, User).outerjoin(User, User.id == Feedback.user_id)
    if model_id:
        statement = statement.where(Feedback.data["model_id"].as_string() == model_id)
    column = (ORDERS.get(order_by or "") if order_by not in ("model_id", "rating")
              else Feedback.data[order_by].as_string())
    if column is None:
        return _page(session, statement.order_by(Feedback.created_at.desc()), page)
    return _page(session, statement.order_by(column.asc() if direction == "asc" else column.desc()), page)


def export(session: Session, model_id: str | None) -> list[dict]:
    feedbacks = session.scalars(select(Feedback).order_by(Feedback.updated_at.desc())).all()
    return [feedback_json(f) for f in feedbacks if not model_id or (f.data or {}).get("model_id") == model_id]


def all_ids(session: Session) -> list[dict]:
    rows = session.execute(select(Feedback.id, Feedback.user_id, Feedback.created_at, Feedback.updated_at)
                           .order_by(Feedback.updated_at.desc()))
    return [{"id": r.id, "user_id": r.user_id, "created_at": r.created_at, "updated_at": r.updated_at} for r in rows]


def model_ids(session: Session) -> list[str]:
    models = {(data or {}).get("model_id") for data in session.scalars(select(Feedback.data))}
    return sorted(model for model in models if model)


def history(session: Session, model_id: str, days: int) -> dict:
    """Daily wins and losses of a model over the last ``days`` days (0: since its first feedback)."""
    cutoff = 0 if days == 0 else now() - days * 86400
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"won": 0, "lost": 0})
    for data, created_at in session.execute(select(Feedback.data, Feedback.created_at).where(
            Feedback.created_at >= cutoff, Feedback.data["model_id"].as_string() == model_id)):
        rating = str((data or {}).get("rating", ""))
        if rating not in ("1", "-1"):
            continue
        counts[datetime.fromtimestamp(created_at).strftime("%Y-%m-%d")]["won" if rating == "1" else "lost"] += 1
    today = date.today()
    start = (min((datetime.strptime(d, "%Y-%m-%d").date() for d in counts), default=today) if days == 0
             else today - timedelta(days=days - 1))
    span = [start + timedelta(days=offset) for offset in range((today - start).days + 1)]
    return {"model_id": model_id, "history": [{"date": day.strftime("%Y-%m-%d"), **counts.get(
        day.strftime("%Y-%m-%d"), {"won": 0, "lost": 0})} for day in span]}


# -- the leaderboard ---------------------------------------------------------------------------------
def elo(feedbacks: Iterable[tuple[str, dict | None]], weights: dict[str, float] | None = None) -> dict[str, dict]:
    """``{model_id: {rating, won, lost}}`` from ``(feedback id, data)`` in order, as Open WebUI computes it: each
    rating (1 won, -1 lost) is a match of ``model_id`` against each of ``sibling_model_ids``."""
    stats: dict[str, dict] = {}
    for feedback_id, data in feedbacks:
        data = data or {}
        winner_id, rating = data.get("model_id"), str(data.get("rating", ""))
        if not winner_id or rating not in ("1", "-1"):
            continue
        won = rating == "1"
        weight = (weights or {}).get(feedback_id, 1.0) if weights else 1.0
        for opponent_id in data.get("sibling_model_ids") or []:
            winner = stats.setdefault(winner_id, {"rating": START_RATING, "won": 0, "lost": 0})
            opponent = stats.setdefault(opponent_id, {"rating": START_RATING, "won": 0, "lost": 0})
            expected = 1 / (1 + 10 ** ((opponent["rating"] - winner["rating"]) / 400))
            winner["rating"] += K_FACTOR * ((1 if won else 0) - expected) * weight
            opponent["rating"] += K_FACTOR * ((0 if won else 1) - (1 - expected)) * weight
            winner["won" if won else "lost"] += 1
            opponent["lost" if won else "won"] += 1
    return stats


def _top_tags(feedbacks: list[tuple[str, dict | None]]) -> dict[str, list[dict]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _feedback_id, data in feedbacks:
        if (data or {}).get("model_id"):
            for tag in data.get("tags", []):
                counts[data["model_id"]][tag] += 1
    return {model: [{"tag": tag, "count": count} for tag, count in sorted(tags.items(), key=lambda t: -t[1])[:TOP_TAGS]]
            for model, tags in counts.items()}


def similarities(feedbacks: list[tuple[str, dict | None]], tags_and_query: np.ndarray, tags: list[str]) -> dict:
    """Each feedback's weight for a query: the cosine of its closest tag to the query (rows of
    ``tags_and_query``: the query's vector, then one per tag)."""
    query, vectors = tags_and_query[0], tags_and_query[1:]
    scores = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query) + 1e-9)
    by_tag = dict(zip(tags, scores.tolist()))
    return {feedback_id: max((by_tag.get(tag, 0) for tag in (data or {}).get("tags", [])), default=0)
            for feedback_id, data in feedbacks}


def rated(session: Session) -> list[tuple[str, dict | None]]:
    """Every feedback's id and data, oldest first (the order the matches are played in)."""
    return [(row.id, row.data) for row in session.execute(select(Feedback.id, Feedback.data)
                                                          .order_by(Feedback.created_at, Feedback.id))]


def leaderboard(feedbacks: list[tuple[str, dict | None]], weights: dict[str, float] | None = None) -> dict:
    """Open WebUI's ``LeaderboardResponse``: entries by rating, highest first."""
    tags = _top_tags(feedbacks)
    entries = [{"model_id": model, "rating": round(stats["rating"]), "won": stats["won"], "lost": stats["lost"],
                "count": stats["won"] + stats["lost"], "top_tags": tags.get(model, [])}
               for model, stats in elo(feedbacks, weights).items()]
    return {"entries": sorted(entries, key=lambda entry: entry["rating"], reverse=True)}


BOARD_SECONDS = 86400
"""How long a computed board is kept; one is kept per feedback version, so a slow job that finishes after a
newer one never replaces the newer board."""


def _board_key(computed_for: int) -> str:
    return key("evaluations", "leaderboard", "board", str(computed_for))


def _version_key() -> str:
    return key("evaluations", "leaderboard", "version")


def version() -> int:
    """Which feedback the leaderboard must reflect: read before the feedback is, by the job that computes it."""
    return int(get_redis().get(_version_key()) or 0)


def remember(board: dict, computed_for: int) -> None:
    get_redis().set(_board_key(computed_for), json.dumps(board), ex=BOARD_SECONDS)


def cached_leaderboard() -> dict | None:
    """The leaderboard of the current feedback, if a job computed it since the feedback last changed."""
    raw = get_redis().get(_board_key(version()))
    return json.loads(raw) if raw else None


def start_leaderboard(session: Session, user: User, query: str | None) -> Job:
    return catalog.send(session, catalog.LEADERBOARD, catalog.Leaderboard(query or None), owner_id=user.id)


def feedback_tags(feedbacks: list[tuple[str, dict | None]]) -> list[str]:
    return sorted({tag for _feedback_id, data in feedbacks for tag in (data or {}).get("tags", [])})
