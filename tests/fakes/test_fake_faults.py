"""The fakes' own faults are not swallowed: an exception in a fake's handler fails the test."""
from __future__ import annotations

import pytest
import requests

from tests.fakes.fixtures import fail_on_faults
from tests.fakes.server import FakeUpstream


def test_an_exception_in_a_fake_handler_fails_the_test():
    fake = FakeUpstream().start()
    try:
        @fake.route("POST", "/broken")
        def broken(request, reply) -> None:
            reply.json({"answer": request.body["missing"]})

        with pytest.raises(requests.ConnectionError):  # the fake closes the connection without an answer
            requests.post(f"{fake.url}/broken", json={}, timeout=5)
        with pytest.raises(pytest.fail.Exception, match="KeyError: 'missing'") as failed:
            fail_on_faults(fake)
        assert "POST /broken" in str(failed.value)
        fail_on_faults(fake)  # reported once
    finally:
        fake.stop()

