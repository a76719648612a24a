"""A real worker (``dramatiq workers.main tests.jobs.actors``) shared by the job tests of a module."""
from tests.jobs.worker import worker  # noqa: F401  (the fixture)
