"""A webhook receiver on loopback: ``POST /hook`` answers ``{"ok": true}`` (or what its behaviour says: a 500,
a slow answer) and logs each request with its raw body, to check signatures against."""
from __future__ import annotations

from tests.fakes.server import FakeUpstream, Received, Reply

PATH = "/hook"


class FakeWebhookReceiver(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()

        @self.route("POST", PATH)
        def hook(_received: Received, reply: Reply) -> None:
            reply.json({"ok": True})

    @property
    def hook_url(self) -> str:
        return self.url + PATH

    def hooks(self) -> list[Received]:
        return self.received(PATH)
