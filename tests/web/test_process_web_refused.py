"""``process/web`` without the admin's allowance for local fetches: loopback, a name that resolves to loopback
and private addresses are refused with a clear 400 and the page is never requested."""
from __future__ import annotations

import pytest

from tests.fakes.fixtures import fake_web_search, web_search_server  # noqa: F401
from tests.helpers import bearer
from tests.rag_support import embeddings, fake_ollama, rag_worker  # noqa: F401


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_refused(client, admin, embeddings, fake_web_search, host):
    port = fake_web_search.url.rsplit(":", 1)[1]
    refused = client.post("/api/v1/retrieval/process/web", headers=bearer(admin["token"]),
                          json={"url": f"http://{host}:{port}/pages/harbor"})
    assert refused.status_code == 400
    assert "private or local network address" in refused.get_json()["detail"]
    assert fake_web_search.requests == []


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/",
                                 "http://metadata.google.internal/"])
def test_private_and_metadata_addresses_are_refused(client, admin, embeddings, url):
    refused = client.post("/api/v1/retrieval/process/web", headers=bearer(admin["token"]), json={"url": url})
    assert refused.status_code == 400 and refused.get_json()["detail"]
