"""Event webhooks (Open WebUI's ``/api/events/webhooks``): the admin's subscriptions, their event filters and
targets, and the deliveries each one received.

A webhook's URL is checked when it is saved, as every URL Switchyard calls out to
(``shared.providers.web_fetch``: no private or local address unless ``ENABLE_LOCAL_WEB_FETCH``), and again at
each delivery. Its secret signs every delivery (``shared.services.webhook_delivery``)."""
from __future__ import annotations

import secrets

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import crypto
from shared.errors import BadRequest, Conflict, NotFound
from shared.jobs.config import get_job_settings
from shared.models import User
from shared.models.base import new_id, now
from shared.models.webhook import Webhook, WebhookDelivery
from shared.providers import web_fetch
from shared.services import app_events
from shared.services.event_catalog import BY_NAME, CATALOG

NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Delivery not found"


def _checked_events(events: list[str] | None) -> list[str]:
    """Open WebUI's filters: event names, ``<prefix>.*`` or ``*``; none means every event."""
    events = [str(event).strip() for event in events or [] if str(event).strip()] or ["*"]
    for event in events:
        if event == "*":
            continue
        if event.endswith(".*"):
            prefix = event[:-2]
            if not prefix or not any(name.startswith(f"{prefix}.") for name in BY_NAME):
                raise BadRequest(f"Invalid event pattern: {event}")
        elif event not in BY_NAME:
            raise BadRequest(f"Invalid event: {event}")
    return events


def _checked_targets(targets: list[dict] | None) -> list[dict] | None:
    """``[{type: user|group, id}]`` without repeats; None (every event) stays None."""
    if targets is None:
        return None
    checked: list[dict] = []
    for target in targets:
        kind, target_id = str(target.get("type") or "").strip(), str(target.get("id") or "").strip()
        if kind not in ("user", "group") or not target_id:
            raise BadRequest("Invalid target")
        if {"type": kind, "id": target_id} not in checked:
            checked.append({"type": kind, "id": target_id})
    return checked


def _checked_url(url: str) -> str:
    url = url.strip()
    web_fetch.checked_address(url)
    return url


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.created_at, Webhook.id)))


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(NOT_FOUND)
    return webhook


def secret_of(webhook: Webhook) -> str:
    """The signing key in clear ('' when the deployment's secret key changed since it was stored)."""
    return crypto.decrypt(webhook.secret) or ""


def create(session: Session, admin: User, form: dict) -> Webhook:
    """A new webhook; without a ``secret`` it gets a random one (shown to admins with the webhook)."""
    stamp = now()
    webhook = Webhook(id=new_id(), name=str(form.get("name") or "Webhook"), url=_checked_url(form["url"]),
                      enabled=bool(form.get("enabled", True)), events=_checked_events(form.get("events")),
                      targets=_checked_targets(form.get("targets")),
                      secret=crypto.encrypt(form.get("secret") or secrets.token_hex(32)),
                      created_by=admin.id, created_at=stamp, updated_at=stamp)
    session.add(webhook)
    session.flush()
    _announce(session, admin, webhook, "created")
    return webhook


def _announce(session: Session, admin: User, webhook: Webhook, action: str) -> None:
    """Open WebUI's ``config.webhook.updated`` event, for every change of a webhook."""
    data = {"action": action} if action == "deleted" else {
        "action": action, "enabled": webhook.enabled, "events": webhook.events, "targets": webhook.targets}
    app_events.emit(session, "config.webhook.updated", actor=admin, subject_id=webhook.id, subject_type="config",
                data=data)


def update(session: Session, admin: User, webhook_id: str, changes: dict) -> Webhook:
    """Change the fields given (Open WebUI's partial update)."""
    webhook = get_webhook(session, webhook_id)
    if changes.get("url") is not None:
        webhook.url = _checked_url(changes["url"])
    if changes.get("name") is not None:
        webhook.name = str(changes["name"]) or "Webhook"
    if changes.get("enabled") is not None:
        webhook.enabled = bool(changes["enabled"])
    if "events" in changes:
        webhook.events = _checked_events(changes["events"])
    if "targets" in changes:
        webhook.targets = _checked_targets(changes["targets"])
    if changes.get("secret"):
        webhook.secret = crypto.encrypt(changes["secret"])
    webhook.updated_at = now()
    session.flush()
    _announce(session, admin, webhook, "updated")
    return webhook


def delete(session: Session, admin: User, webhook_id: str) -> None:
    """The webhook and its delivery history (a delivery still queued finds nothing and ends)."""
    webhook = get_webhook(session, webhook_id)
    session.delete(webhook)
    session.flush()
    _announce(session, admin, webhook, "deleted")


def catalog_items() -> list[dict[str, str]]:
    return [{"event": event.name, "description": event.description, "message": event.message} for event in CATALOG]


# -- deliveries -------------------------------------------------------------------------------------------
def deliveries(session: Session, webhook_id: str, *, status: str | None = None, page: int = 1,
               limit: int = 50) -> tuple[list[WebhookDelivery], int]:
    """A webhook's deliveries, newest first (``status``: only those), and how many there are in all."""
    get_webhook(session, webhook_id)
    where = [WebhookDelivery.webhook_id == webhook_id]
    if status:
        where.append(WebhookDelivery.status == status)
    total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0
    rows = session.scalars(select(WebhookDelivery).where(*where)
                           .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                           .offset((max(page, 1) - 1) * limit).limit(limit))
    return list(rows), total


def get_delivery(session: Session, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise NotFound(DELIVERY_NOT_FOUND)
    return delivery


def redeliver(session: Session, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a dead letter again, the same body with a fresh round of attempts."""
    delivery = get_delivery(session, webhook_id, delivery_id)
    if delivery.status != "dead":
        raise Conflict(f"Only a dead delivery can be redelivered (this one is {delivery.status}).")
    delivery.status, delivery.updated_at = "pending", now()
    app_events.stage_delivery(session, delivery)
    return delivery


def prune_deliveries(session: Session) -> int:
    """Delete the deliveries that ended (delivered, dead) longer ago than the jobs' retention period."""
    cutoff = now() - get_job_settings().retention_days * 86400
    deleted = session.execute(delete_rows(WebhookDelivery).where(
        WebhookDelivery.status.in_(("delivered", "dead")), WebhookDelivery.updated_at < cutoff)).rowcount
    session.commit()
    return deleted
