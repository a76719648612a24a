"""A real worker (``dramatiq workers.main tests.jobs.actors``) shared by the job tests of a module."""
from __future__ import annotations

import pytest

from tests.jobs.worker import running_worker


@pytest.fixture(scope="module")
def worker(database):
    with running_worker(threads=4) as process:
        yield process
