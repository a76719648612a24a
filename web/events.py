"""``/api/events``: Open WebUI's event catalog and its event webhooks (admins), with each webhook's deliveries
and the redelivery of a dead letter (Switchyard's own routes)."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields, validate

from shared.config import VERSION
from shared.models.webhook import DELIVERY_STATUSES, Webhook, WebhookDelivery
from shared.services import webhooks
from web.blueprint import Blueprint
from web.caller import admin_required, current_user
from web.db import db
from web.schemas import Body

blp = Blueprint("events", __name__, url_prefix="/api/events", description="Event catalog and webhooks")


class Target(Body):
    type = fields.String(required=True)
    id = fields.String(required=True)


class WebhookUpdateForm(Body):
    """Open WebUI's ``EventWebhookUpdateForm``, and the signing ``secret``."""

    name = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    enabled = fields.Boolean(allow_none=True)
    events = fields.List(fields.String(), allow_none=True)
    targets = fields.List(fields.Nested(Target), allow_none=True)
    secret = fields.String(allow_none=True, validate=validate.Length(min=16, max=256))


class WebhookForm(WebhookUpdateForm):
    """Open WebUI's ``EventWebhookForm``."""

    url = fields.String(required=True)
    enabled = fields.Boolean(load_default=True)


class DeliveriesQuery(Body):
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def webhook_json(webhook: Webhook) -> dict:
    """Open WebUI's webhook, with its signing secret (admins only see it)."""
    return {"id": webhook.id, "name": webhook.name, "url": webhook.url, "enabled": webhook.enabled,
            "events": webhook.events, "targets": webhook.targets, "secret": webhooks.secret_of(webhook),
            "created_at": webhook.created_at, "updated_at": webhook.updated_at}


def delivery_json(delivery: WebhookDelivery) -> dict:
    return {column: getattr(delivery, column) for column in (
        "id", "webhook_id", "event", "status", "attempts", "job_id", "last_status_code", "last_error",
        "response_snippet", "payload", "created_at", "updated_at", "delivered_at")}


@blp.route("", methods=["GET"])
@admin_required
def catalog():
    """Every event a webhook may subscribe to."""
    return jsonify(schema=VERSION, events=webhooks.catalog_items())


@blp.route("/webhooks", methods=["GET"])
@admin_required
def list_webhooks():
    return jsonify([webhook_json(webhook) for webhook in webhooks.list_webhooks(db())])


@blp.route("/webhooks", methods=["POST"])
@admin_required
@blp.arguments(WebhookForm)
def create(body: dict):
    """A URL that is not public (unless local fetches are allowed) or an unknown event answers 400."""
    return jsonify(webhook_json(webhooks.create(db(), current_user(), body)))


@blp.route("/webhooks/<webhook_id>", methods=["PUT"])
@admin_required
@blp.arguments(WebhookUpdateForm)
def update(body: dict, webhook_id: str):
    return jsonify(webhook_json(webhooks.update(db(), current_user(), webhook_id, body)))


@blp.route("/webhooks/<webhook_id>", methods=["DELETE"])
@admin_required
def delete(webhook_id: str):
    webhooks.delete(db(), current_user(), webhook_id)
    return jsonify(status=True)


@blp.route("/webhooks/<webhook_id>/deliveries", methods=["GET"])
@admin_required
@blp.arguments(DeliveriesQuery, location="query")
def deliveries(args: dict, webhook_id: str):
    """``{items, total, page}``, newest first; ``status=dead`` lists the dead letters."""
    rows, total = webhooks.deliveries(db(), webhook_id, **args)
    return jsonify(items=[delivery_json(row) for row in rows], total=total, page=args["page"])


@blp.route("/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver", methods=["POST"])
@admin_required
def redeliver(webhook_id: str, delivery_id: str):
    """A dead letter sent again (409 for any other delivery)."""
    return jsonify(delivery_json(webhooks.redeliver(db(), webhook_id, delivery_id)))
