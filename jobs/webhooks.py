"""Event webhook jobs (``webhooks`` queue): one delivery attempt per run; its dead letter when none is left; the
hourly pruning of old deliveries."""
from __future__ import annotations

import workers.runtime  # noqa: F401  (actors bind to the worker's broker)
from shared.db import session_scope
from shared.jobs import catalog
from shared.models import Job
from shared.services import webhook_delivery, webhooks


@catalog.WEBHOOK_DELIVERY.actor
def deliver(job_id: str, delivery_id: str) -> dict:
    """Post the event to its webhook; a failure the retry policy retries comes back after its backoff."""
    with session_scope() as session:
        return webhook_delivery.attempt(session, delivery_id)


@catalog.WEBHOOK_DEAD.actor
def dead(message_data: dict, exception_data: dict) -> None:
    """``on_failure`` callback of a delivery: once its job failed for good (a failure that will be retried
    leaves it ``queued``), the delivery is a dead letter."""
    with session_scope() as session:
        job = session.get(Job, message_data.get("message_id"))
        if job is None or job.status != "failed":
            return
        webhook_delivery.mark_dead(session, (message_data.get("kwargs") or {}).get("delivery_id"),
                                   (job.error or {}).get("message") or exception_data.get("message"))


@catalog.PRUNE_WEBHOOK_DELIVERIES.actor
def prune_deliveries() -> int:
    with session_scope() as session:
        return webhooks.prune_deliveries(session)
