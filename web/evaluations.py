"""``/api/v1/evaluations``: the ratings under replies (feedback), the arena settings and the leaderboard, which a
job computes (``evaluations.leaderboard``)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.services import evaluations
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body
from web.streaming.responses import result_or_accepted

blp = Blueprint("evaluations", __name__, url_prefix="/api/v1/evaluations", description="Evaluations")

LEADERBOARD_TIMEOUT = 120.0


class EvaluationConfigBody(Body):
    ENABLE_EVALUATION_ARENA_MODELS = fields.Boolean(load_default=None, allow_none=True)
    EVALUATION_ARENA_MODELS = fields.List(fields.Dict(), load_default=None, allow_none=True)


class FeedbackBody(Body):
    """Open WebUI's ``FeedbackForm``: what the rating buttons send (``id``, ``user_id`` ... are ignored)."""

    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    data = fields.Dict(load_default=None, allow_none=True)
    meta = fields.Dict(load_default=None, allow_none=True)
    snapshot = fields.Dict(load_default=None, allow_none=True)


class PageQuery(Body):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))


class ListQuery(PageQuery):
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None, validate=validate.OneOf(["asc", "desc"]))
    model_id = fields.String(load_default=None)


class ExportQuery(Body):
    model_id = fields.String(load_default=None)


class LeaderboardQuery(Body):
    query = fields.String(load_default=None, validate=validate.Length(max=1000))


class HistoryQuery(Body):
    days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650))


@blp.route("/config", methods=["GET"])
@admin_required
def get_config():
    return jsonify(evaluations.read_config(db()))


@blp.route("/config", methods=["POST"])
@admin_required
@blp.arguments(EvaluationConfigBody)
def update_config(body: dict):
    return jsonify(evaluations.update_config(db(), body))


@blp.route("/leaderboard", methods=["GET"])
@admin_required
@blp.arguments(LeaderboardQuery, location="query")
def leaderboard(args: dict):
    """``{entries: [{model_id, rating, won, lost, count, top_tags}]}``: the cached board, else a job's."""
    query = (args["query"] or "").strip()
    cached = None if query else evaluations.cached_leaderboard()
    if cached is not None:
        return jsonify(cached)
    return result_or_accepted(evaluations.start_leaderboard(db(), current_user(), query), LEADERBOARD_TIMEOUT)


@blp.route("/leaderboard/<path:model_id>/history", methods=["GET"])
@admin_required
@blp.arguments(HistoryQuery, location="query")
def model_history(args: dict, model_id: str):
    """Daily wins and losses of one model."""
    return jsonify(evaluations.history(db(), model_id, args["days"]))


@blp.route("/feedbacks/models", methods=["GET"])
@admin_required
def feedback_models():
    return jsonify(evaluations.model_ids(db()))


@blp.route("/feedbacks/all/ids", methods=["GET"])
@admin_required
def feedback_ids():
    return jsonify(evaluations.all_ids(db()))


@blp.route("/feedbacks/all", methods=["DELETE"])
@admin_required
def delete_everyones_feedback():
    return jsonify(evaluations.delete_all(db(), current_user(), everyone=True))


@blp.route("/feedbacks/all/export", methods=["GET"])
@admin_required
@blp.arguments(ExportQuery, location="query")
def export_feedback(args: dict):
    return jsonify(evaluations.export(db(), args["model_id"]))


@blp.route("/feedbacks/user", methods=["GET"])
@user_required
@blp.arguments(PageQuery, location="query")
def my_feedback(args: dict):
    return jsonify(evaluations.user_list(db(), current_user(), args["page"]))


@blp.route("/feedbacks", methods=["DELETE"])
@user_required
def delete_my_feedback():
    return jsonify(evaluations.delete_all(db(), current_user(), everyone=False))


@blp.route("/feedbacks/list", methods=["GET"])
@admin_required
@blp.arguments(ListQuery, location="query")
def list_feedback(args: dict):
    return jsonify(evaluations.admin_list(db(), args["page"], args["order_by"], args["direction"], args["model_id"]))


@blp.route("/feedback", methods=["POST"])
@user_required
@blp.arguments(FeedbackBody)
def create_feedback(body: dict):
    return jsonify(evaluations.feedback_json(evaluations.create(db(), current_user(), body)))


@blp.route("/feedback/<feedback_id>", methods=["GET"])
@user_required
def get_feedback(feedback_id: str):
    return jsonify(evaluations.feedback_json(evaluations.get(db(), current_user(), feedback_id)))


@blp.route("/feedback/<feedback_id>", methods=["POST"])
@user_required
@blp.arguments(FeedbackBody)
def update_feedback(body: dict, feedback_id: str):
    return jsonify(evaluations.feedback_json(evaluations.update(db(), current_user(), feedback_id, body)))


@blp.route("/feedback/<feedback_id>", methods=["DELETE"])
@user_required
def delete_feedback(feedback_id: str):
    evaluations.delete_one(db(), current_user(), feedback_id)
    return jsonify(True)
