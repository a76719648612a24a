"""A job's log records carry the id of the request that sent it (``shared.logs``), and its start and end are
logged under it, so a request can be followed from the web's log into the worker's."""
from __future__ import annotations

import logging

from dramatiq.middleware import Middleware

from shared import logs
from shared.jobs.enqueue import REQUEST_ID

log = logging.getLogger(__name__)


class RequestIds(Middleware):
    def before_process_message(self, broker, message):
        logs.request_id.set(message.options.get(REQUEST_ID))
        log.info("%s %s started", message.actor_name, message.message_id)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        log.info("%s %s %s", message.actor_name, message.message_id, "failed" if exception else "done")
        logs.request_id.set(None)

    def after_skip_message(self, broker, message):
        logs.request_id.set(None)
