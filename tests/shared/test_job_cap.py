"""The per-user cap on active jobs, where every sender goes through (``catalog.send``)."""
from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.errors import TooManyRequests
from shared.jobs import catalog, current
from shared.jobs.current import RunningJob
from shared.services import accounts, rate_limits


def test_what_a_running_job_sends_is_never_refused():
    with session_scope() as session:
        owner = accounts.signup(session, name="A", email="a@example.com", password="a-pass-123").id
        rate_limits.update(session, {"JOB_MAX_ACTIVE_PER_USER": 1})
        first = catalog.send(session, catalog.NOOP, catalog.Noop(1), owner_id=owner)
        with pytest.raises(TooManyRequests):
            catalog.send(session, catalog.NOOP, catalog.Noop(2), owner_id=owner)
        current.bind(RunningJob(job_id=first.id))  # as in a worker thread running the first job
        try:
            follow_up = catalog.send(session, catalog.NOOP, catalog.Noop(3), owner_id=owner)
        finally:
            current.bind(None)
        part = catalog.send(session, catalog.NOOP, catalog.Noop(4), owner_id=owner, parent_id=first.id)
        unowned = catalog.send(session, catalog.NOOP, catalog.Noop(5), owner_id=None)
        assert all(job.status == "queued" for job in (follow_up, part, unowned))
