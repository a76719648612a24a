"""Open WebUI's ``/api/tasks`` routes, backed by jobs: a task id is a job id."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy.orm import Session

from shared.jobs import service
from shared.models.job import Job
from shared.services.chats import store
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="Open WebUI's running tasks")


def _stop(session: Session, jobs: list[Job]) -> None:
    for job in jobs:
        service.request_cancel(session, job)


@blp.route("/", methods=["GET"])
@admin_required
def list_tasks():
    """Ids of every job that is queued or running."""
    return jsonify(tasks=service.active_job_ids(db()))


@blp.route("/stop/<task_id>", methods=["POST"])
@admin_required
def stop_task(task_id: str):
    job = db().get(Job, task_id)
    if job is None:
        return jsonify(status=False, message=f"Task with ID {task_id} not found.")
    _stop(db(), [job])
    return jsonify(status=True, message=f"Task {task_id} stopped.")


@blp.route("/chat/<path:chat_id>", methods=["GET"])
@user_required
def chat_tasks(chat_id: str):
    """The caller's active jobs for the chat."""
    ids = service.active_job_ids(db(), owner_id=current_user().id, related_type="chat", related_id=chat_id)
    return jsonify(task_ids=ids)


@blp.route("/chat/<path:chat_id>/stop", methods=["POST"])
@user_required
def stop_chat_tasks(chat_id: str):
    """Cancel the caller's active jobs for one of their chats (someone else's chat is 404)."""
    store.get_chat(db(), current_user().id, chat_id)
    ids = service.active_job_ids(db(), owner_id=current_user().id, related_type="chat", related_id=chat_id)
    if not ids:
        return jsonify(status=True, message=f"No tasks found for item {chat_id}.")
    _stop(db(), [db().get(Job, job_id) for job_id in ids])
    return jsonify(status=True, message=f"All tasks for item {chat_id} stopped.")
