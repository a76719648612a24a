"""The worker's broker, with Dramatiq's standard middleware; importing it makes it the global broker."""
from __future__ import annotations

import dramatiq
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from shared.jobs.broker import make_broker

broker = make_broker(
    middleware=[AgeLimit(), TimeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(), Retries()]
)
dramatiq.set_broker(broker)
