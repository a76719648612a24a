"""``/api/v1/jobs``: the caller's jobs (every job for admins), their event streams, cancel and retry; for admins,
the queue dashboard's data and the purge of a dead-letter queue."""
from __future__ import annotations

from flask import jsonify, request
from marshmallow import Schema, fields, validate

from shared.jobs import dashboard, results, service
from shared.models.job import STATUSES, Job
from web.blueprint import Blueprint
from web.caller import admin_required, current_user, user_required
from web.db import db
from web.schemas import Body
from web.streaming.responses import result_or_accepted, sse_response

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Durable jobs")


class JobQuery(Body):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ProbeBody(Body):
    seconds = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=3600))
    wait = fields.Float(load_default=30.0, validate=validate.Range(min=0, max=300))


class QueuesQuery(Body):
    minutes = fields.Integer(load_default=15, validate=validate.Range(min=1, max=60))


class EventsQuery(Body):
    last_event_id = fields.String(load_default=None)


class JobErrorSchema(Schema):
    type = fields.String()
    message = fields.String()
    status = fields.Integer(allow_none=True)
    detail = fields.String(allow_none=True, metadata={"description": "admins only"})


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String()
    queue = fields.String()
    owner_id = fields.String(allow_none=True)
    status = fields.String()
    progress = fields.Float()
    progress_message = fields.String()
    attempts = fields.Integer()
    error = fields.Nested(JobErrorSchema, allow_none=True)
    result = fields.Raw(allow_none=True)
    related_type = fields.String(allow_none=True)
    related_id = fields.String(allow_none=True)
    parent_id = fields.String(allow_none=True)
    created_at = fields.Integer()
    updated_at = fields.Integer()
    started_at = fields.Integer(allow_none=True)
    finished_at = fields.Integer(allow_none=True)


class JobListSchema(Schema):
    items = fields.List(fields.Nested(JobSchema))
    total = fields.Integer()
    page = fields.Integer()


COLUMNS = tuple(name for name in JobSchema().fields if name not in ("error", "result"))


def present(job: Job, with_result: bool = True) -> dict:
    """The job as the API shows it: the trace in ``error.detail`` is for admins only."""
    error = job.error
    if error and current_user().role != "admin":
        error = {name: value for name, value in error.items() if name != "detail"}
    data = {column: getattr(job, column) for column in COLUMNS}
    data["error"] = error
    data["result"] = results.load(job) if with_result else job.result
    return data


@blp.route("/", methods=["GET"])
@user_required
@blp.arguments(JobQuery, location="query")
@blp.response(200, JobListSchema)
def list_jobs(args: dict):
    """A page of jobs, newest first, filterable by status and kind (large results are left out)."""
    jobs, total = service.list_jobs(db(), current_user(), **args)
    return {"items": [present(job, with_result=False) for job in jobs], "total": total, "page": args["page"]}


@blp.route("/probe", methods=["POST"])
@admin_required
@blp.arguments(ProbeBody)
def probe(args: dict):
    """Run a no-op (or, with ``seconds``, a sleeping) job end to end: its result within ``wait`` seconds,
    else 202 with the job id (also with ``Prefer: respond-async``). For operators and the benchmark."""
    return result_or_accepted(service.start_probe(db(), current_user(), args["seconds"]), timeout=args["wait"])


@blp.route("/stats", methods=["GET"])
@admin_required
def job_stats():
    """Jobs per status; per queue the messages waiting, delayed (retry backoff) and dead-lettered; and
    how many undecodable messages were rejected."""
    return jsonify(service.stats(db()))


@blp.route("/admin/queues", methods=["GET"])
@admin_required
@blp.arguments(QueuesQuery, location="query")
def queue_overview(args: dict):
    """Per queue: messages waiting, delayed and dead-lettered, the oldest one's age, job rows queued, running
    and failed, live workers and threads, and jobs finished per minute over the last ``minutes``; and every
    live worker process with its queues, threads and heartbeat age (the page at ``/admin/queues``)."""
    return jsonify(dashboard.overview(db(), args["minutes"]))


@blp.route("/admin/queues/<queue>/dead-letters/purge", methods=["POST"])
@admin_required
def purge_dead_letters(queue: str):
    """Drop the queue's dead-lettered messages (``{"queue", "purged"}``); their jobs stay ``failed`` and can
    still be retried."""
    return jsonify(dashboard.purge_dead_letters(queue))


@blp.route("/<job_id>", methods=["GET"])
@user_required
@blp.response(200, JobSchema)
def get_job(job_id: str):
    """Status, progress, and the result or error."""
    return present(service.get_job(db(), job_id, current_user()))


@blp.route("/<job_id>/events", methods=["GET"])
@user_required
@blp.arguments(EventsQuery, location="query")
@blp.response(200, content_type="text/event-stream")
def job_events(args: dict, job_id: str):
    """The job's events as server-sent events (``id:``, ``event:`` type, ``data:`` JSON); resumes after
    ``Last-Event-ID`` (header or ``last_event_id`` query) and ends after the final status."""
    job = service.get_job(db(), job_id, current_user())
    db().close()
    return sse_response(job, request.headers.get("Last-Event-ID") or args["last_event_id"])


@blp.route("/<job_id>/cancel", methods=["POST"])
@user_required
@blp.response(200, JobSchema)
def cancel_job(job_id: str):
    """Cancel: a queued job never starts; a running one stops within a second and ends ``cancelled``."""
    return present(service.cancel(db(), job_id, current_user()))


@blp.route("/<job_id>/retry", methods=["POST"])
@user_required
@blp.response(200, JobSchema)
def retry_job(job_id: str):
    """Run a failed or cancelled job again (409 for any other status)."""
    return present(service.retry(db(), job_id, current_user()))
