"""An MCP-style tool server with its own OAuth 2.1 authorization server on loopback, as a client registering
there sees it: RFC 9728 protected-resource metadata at ``/.well-known/oauth-protected-resource/mcp`` naming the
authorization server (``/auth``) and the resource's scopes, RFC 8414 metadata at
``/.well-known/oauth-authorization-server/auth``, and an RFC 7591 registration endpoint that issues a client id
(and secret) for what is sent. Paths not served answer 404, as a server without them would."""
from __future__ import annotations

import json

from tests.fakes.server import FakeUpstream, Received, Reply

RESOURCE_PATH = "/mcp"
ISSUER_PATH = "/auth"
RESOURCE_SCOPES = ["tools:read", "tools:call"]
REGISTERED_ID = "registered-client-1"
REGISTERED_SECRET = "registered-secret-1"


class FakeOAuthServer(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()

        @self.route("GET", f"/.well-known/oauth-protected-resource{RESOURCE_PATH}")
        def protected_resource(_request: Received, reply: Reply) -> None:
            reply.json({"resource": f"{self.url}{RESOURCE_PATH}", "authorization_servers": [self.issuer],
                        "scopes_supported": RESOURCE_SCOPES})

        @self.route("GET", f"/.well-known/oauth-authorization-server{ISSUER_PATH}")
        def metadata(_request: Received, reply: Reply) -> None:
            reply.json({"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                        "token_endpoint": f"{self.issuer}/token", "registration_endpoint": f"{self.issuer}/register",
                        "response_types_supported": ["code"], "scopes_supported": ["tools:read", "tools:call", "admin"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"]})

        @self.route("POST", f"{ISSUER_PATH}/register")
        def register(request: Received, reply: Reply) -> None:
            sent = request.body if isinstance(request.body, dict) else json.loads(request.body or "{}")
            if not sent.get("redirect_uris"):
                reply.json({"error": "invalid_redirect_uri"}, 400)
                return
            reply.json({**sent, "client_id": REGISTERED_ID, "client_secret": REGISTERED_SECRET,
                        "client_id_issued_at": 1700000000, "client_secret_expires_at": 0, "scope": ""}, 201)

    @property
    def issuer(self) -> str:
        return f"{self.url}{ISSUER_PATH}"
