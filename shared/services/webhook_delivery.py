"""One attempt at a webhook delivery, run by the ``webhooks.deliver`` job, and the dead letter it leaves when
no attempt is left.

The body is the event's JSON, sent as the same bytes at every attempt. ``X-Switchyard-Signature:
sha256=<hex>`` is the HMAC-SHA256 of those bytes with the webhook's secret; ``X-Switchyard-Timestamp`` is when
the attempt was made (Unix seconds), so a receiver can refuse stale replays. A 2xx answer delivers it; 408, 429,
5xx, a timeout or a connection failure is retried with exponential backoff (the job's ``Retries``); any other
answer, or a URL that is now refused, ends it at once."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from sqlalchemy.orm import Session

from shared.config import env
from shared.errors import BadRequest, UpstreamError
from shared.models.base import now
from shared.models.webhook import Webhook, WebhookDelivery
from shared.providers import web_fetch
from shared.services.webhooks import secret_of

SNIPPET_BYTES = 1024
RETRIED_STATUSES = (408, 429)
SIGNATURE_HEADER = "X-Switchyard-Signature"
TIMESTAMP_HEADER = "X-Switchyard-Timestamp"


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _record(session: Session, delivery: WebhookDelivery, *, status: str, code: int | None = None,
            error: str | None = None, snippet: str | None = None) -> None:
    delivery.status, delivery.last_status_code, delivery.last_error = status, code, error
    delivery.response_snippet, delivery.updated_at = snippet, now()
    if status == "delivered":
        delivery.delivered_at = delivery.updated_at
    session.commit()


def attempt(session: Session, delivery_id: str) -> dict:
    """Post the delivery once and record how it went (committed); raise what the job's retry policy reads:
    a transient UpstreamError to try again later, anything else to stop."""
    delivery = session.get(WebhookDelivery, delivery_id)
    webhook = session.get(Webhook, delivery.webhook_id) if delivery is not None else None
    if delivery is None or webhook is None:
        return {"status": "gone"}  # the webhook was deleted meanwhile, its deliveries with it
    if delivery.status == "delivered":
        return {"status": "delivered"}  # a duplicate of an attempt that went through
    delivery.attempts += 1
    if not webhook.enabled:
        _record(session, delivery, status="failed", error="The webhook is disabled.")
        raise BadRequest("The webhook is disabled.")
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret_of(webhook), body),
               TIMESTAMP_HEADER: str(int(time.time())), "X-Switchyard-Event": delivery.event,
               "X-Switchyard-Delivery": delivery.id}
    try:
        answer = web_fetch.post(webhook.url, body, headers, timeout=env("WEBHOOK_TIMEOUT"), keep=SNIPPET_BYTES)
    except (BadRequest, UpstreamError) as error:
        _record(session, delivery, status="failed", error=error.detail)
        raise
    snippet = answer.body.decode(errors="replace")
    if 200 <= answer.status < 300:
        _record(session, delivery, status="delivered", code=answer.status, snippet=snippet)
        return {"status": "delivered", "status_code": answer.status}
    message = f"The receiver answered {answer.status}."
    _record(session, delivery, status="failed", code=answer.status, error=message, snippet=snippet)
    raise UpstreamError(message, 502, upstream_status=answer.status,
                        transient=answer.status >= 500 or answer.status in RETRIED_STATUSES)


def mark_dead(session: Session, delivery_id: str, reason: str | None) -> None:
    """No attempt is left: the delivery is a dead letter (its last error stays as the attempt recorded it)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None and delivery.status != "delivered":
        delivery.status, delivery.updated_at = "dead", now()
        delivery.last_error = delivery.last_error or reason
