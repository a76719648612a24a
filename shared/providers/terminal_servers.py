"""Open WebUI terminal servers (``open-terminal`` and its orchestrators): what kind of server answers at a URL."""
from __future__ import annotations

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream

ORCHESTRATOR, TERMINAL = "orchestrator", "terminal"


def kind(url: str, key: str | None, timeout: float) -> str | None:
    """``orchestrator`` when it serves a policies API, ``terminal`` when it serves ``/api/config``, else None
    (Open WebUI's check, in that order)."""
    server = Upstream("Terminal server", url.rstrip("/"), {"Authorization": f"Bearer {key}"} if key else {}, timeout)
    for path, found in (("api/v1/policies", ORCHESTRATOR), ("api/config", TERMINAL)):
        try:
            server.json("GET", path)
            return found
        except UpstreamError:
            continue
    return None
