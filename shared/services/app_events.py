"""Emitting an event (Open WebUI's ``publish_event``): its payload, in Open WebUI's ``Event`` shape, and one
delivery job per enabled webhook that takes it, added to the emitter's transaction.

The deliveries commit with the change the event reports and their jobs are sent after that commit
(``shared.jobs.enqueue.stage``): an event is never announced for a change that rolled back, and the request
that emitted it waits for no receiver."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.config import VERSION, env
from shared.jobs import catalog
from shared.models import GroupMember, User
from shared.models.base import new_id, now
from shared.models.webhook import Webhook, WebhookDelivery
from shared.services.event_catalog import BY_NAME

MAX_STRING_LENGTH = 1000
SENSITIVE_KEYS = {"password", "hashed_password", "token", "access_token", "refresh_token", "id_token", "api_key",
                  "secret", "key", "authorization", "cookie", "webhook_token"}
SENSITIVE_ENDINGS = ("_token", "_secret", "_key")
"""Keys never sent in an event's data (Open WebUI's ``SENSITIVE_KEYS``)."""
ACTOR_FIELDS = ("id", "name", "email", "role", "created_at", "updated_at")


def _sanitized(value: Any) -> Any:
    """``value`` without secrets, and with long strings cut (Open WebUI's ``_sanitize``)."""
    if isinstance(value, dict):
        return {key: _sanitized(item) for key, item in value.items()
                if str(key).lower().replace("-", "_") not in SENSITIVE_KEYS
                and not str(key).lower().endswith(SENSITIVE_ENDINGS)}
    if isinstance(value, (list, tuple, set)):
        return [_sanitized(item) for item in value]
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        return f"{value[:MAX_STRING_LENGTH]}..."
    return value


def _actor(user: User | None) -> dict | None:
    if user is None:
        return None
    actor = {name: getattr(user, name) for name in ACTOR_FIELDS if getattr(user, name, None) is not None}
    return {**actor, "type": "user"}


def payload(name: str, *, actor: User | None = None, subject_id: str | None = None,
            subject_type: str | None = None, data: dict | None = None, source: str = "api") -> dict[str, Any]:
    """The event as it is posted (Open WebUI's ``Event``): ``event`` is ``<resource>.<operation>``."""
    if name not in BY_NAME:
        raise ValueError(f"Unknown event: {name}")
    resource, _, operation = name.rpartition(".")
    subject = ({"type": subject_type or resource, "id": subject_id}
               if subject_id is not None or subject_type is not None else None)
    return {"schema": VERSION, "id": new_id(), "event": name, "resource": resource, "operation": operation,
            "created_at": now(), "instance_id": None, "version": VERSION, "source": source, "actor": _actor(actor),
            "subject": subject, "data": _sanitized(data or {}), "message": BY_NAME[name].message}


# -- which webhooks an event goes to ------------------------------------------------------------------
def filter_matches(events: list[str], name: str) -> bool:
    return any(event == "*" or event == name or (event.endswith(".*") and name.startswith(event[:-1]))
               for event in events or ["*"])


def users_of(event: dict[str, Any]) -> set[str]:
    """The users an event is about (Open WebUI's ``event_user_ids``): its actor, a user subject, ``data``'s
    ``user_id``/``user_ids``."""
    actor, subject, data = event.get("actor") or {}, event.get("subject") or {}, event.get("data") or {}
    users = {str(actor["id"])} if actor.get("id") else set()
    if subject.get("type") == "user" and subject.get("id"):
        users.add(str(subject["id"]))
    users.update(str(user_id) for user_id in [data.get("user_id"), *(data.get("user_ids") or [])] if user_id)
    return users


def targets_match(session: Session, targets: list[dict] | None, users: set[str]) -> bool:
    """None: every event; ``[]``: only events about no user; otherwise one of the users, directly or by group."""
    if targets is None:
        return True
    if not targets or not users:
        return not targets and not users
    if users & {target["id"] for target in targets if target["type"] == "user"}:
        return True
    groups = {target["id"] for target in targets if target["type"] == "group"}
    return bool(groups) and bool(session.scalar(select(func.count()).select_from(GroupMember).where(
        GroupMember.user_id.in_(users), GroupMember.group_id.in_(groups))))


def subscribers(session: Session, event: dict[str, Any]) -> list[Webhook]:
    """The enabled webhooks whose filters and targets take ``event``."""
    users = users_of(event)
    return [webhook for webhook in session.scalars(select(Webhook).where(Webhook.enabled.is_(True)))
            if filter_matches(webhook.events, event["event"]) and targets_match(session, webhook.targets, users)]


def retry_options() -> dict[str, int]:
    """How a delivery is retried: the ``WEBHOOK_*`` settings, carried by each message."""
    return {"max_retries": env("WEBHOOK_MAX_RETRIES"), "min_backoff": env("WEBHOOK_MIN_BACKOFF_MS"),
            "max_backoff": env("WEBHOOK_MAX_BACKOFF_MS")}


def stage_delivery(session: Session, delivery: WebhookDelivery) -> None:
    """The delivery's job, sent once the caller's transaction commits (with the delivery)."""
    job = catalog.stage(session, catalog.WEBHOOK_DELIVERY, catalog.Delivery(delivery.id),
                        related_type="webhook_delivery", related_id=delivery.id, options=retry_options())
    delivery.job_id = job.id


def deliver(session: Session, webhook: Webhook, event: dict[str, Any]) -> WebhookDelivery:
    stamp = now()
    delivery = WebhookDelivery(id=new_id(), webhook_id=webhook.id, event=event["event"], payload=event,
                               status="pending", attempts=0, created_at=stamp, updated_at=stamp)
    session.add(delivery)
    stage_delivery(session, delivery)
    return delivery


def emit(session: Session, name: str, *, actor: User | None = None, subject_id: str | None = None,
         subject_type: str | None = None, data: dict | None = None, source: str = "api") -> int:
    """Record the event ``name`` for every enabled webhook that takes it, in ``session``'s transaction; how many."""
    event = payload(name, actor=actor, subject_id=subject_id, subject_type=subject_type, data=data, source=source)
    webhooks = subscribers(session, event)
    for webhook in webhooks:
        deliver(session, webhook, event)
    return len(webhooks)
