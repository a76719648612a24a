"""An OpenID Connect provider on loopback, as far as a relying party sees one: the discovery document, a JWKS
with one RSA key, ``/authorize`` that signs the user in at once and redirects back with a code, ``/token``
that exchanges the code (client secret, redirect URI and PKCE checked) for an RS256 ID token carrying the
nonce, and ``/userinfo``.

Per test (reset between tests): ``claims`` (the user the provider signs in), and ways to misbehave:
``sign_with_other_key`` signs ID tokens with a key the JWKS does not publish (under the same key id, as a
forged token would claim), ``wrong_nonce`` puts another nonce in them, ``userinfo_sub`` makes ``/userinfo``
speak of another subject.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.parse
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.server import FakeUpstream, Received, Reply

CLIENT_ID = "switchyard-test"
CLIENT_SECRET = "issuer-test-secret"
KEY_ID = "issuer-key-1"
DEFAULT_CLAIMS = {"sub": "idp-user-1", "email": "ada@example.com", "name": "Ada Lovelace"}


def _form(body: Any) -> dict[str, str]:
    return {name: values[0] for name, values in urllib.parse.parse_qs(body or "").items()}


class FakeIssuer(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
        self._codes: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self.reset_user()

        @self.route("GET", "/.well-known/openid-configuration")
        def discovery(_request: Received, reply: Reply) -> None:
            reply.json({
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            })

        @self.route("GET", "/jwks")
        def jwks(_request: Received, reply: Reply) -> None:
            reply.json({"keys": [self.key.as_dict(private=False)]})

        @self.route("GET", "/authorize")
        def authorize(request: Received, reply: Reply) -> None:
            params = {name: urllib.parse.unquote_plus(value) for name, value in request.params.items()}
            if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code":
                reply.json({"error": "invalid_request"}, 400)
                return
            code = secrets.token_urlsafe(16)
            self._codes[code] = {"params": params, "claims": dict(self.claims)}
            back = {"code": code, "state": params["state"]}
            reply.headers["Location"] = f"{params['redirect_uri']}?{urllib.parse.urlencode(back)}"
            reply.body(b"", "text/plain", 302)

        @self.route("POST", "/token")
        def token(request: Received, reply: Reply) -> None:
            form = _form(request.body)
            issued = self._codes.pop(form.get("code", ""), None)
            if not self._client_authenticated(request, form) or issued is None:
                reply.json({"error": "invalid_grant"}, 400)
                return
            params = issued["params"]
            if form.get("redirect_uri") != params["redirect_uri"] or not _pkce_ok(params, form):
                reply.json({"error": "invalid_grant"}, 400)
                return
            access_token = secrets.token_urlsafe(16)
            self._access_tokens[access_token] = issued["claims"]
            reply.json({"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                        "id_token": self._id_token(issued["claims"], params.get("nonce"))})

        @self.route("GET", "/userinfo")
        def userinfo(request: Received, reply: Reply) -> None:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            claims = self._access_tokens.get(value) if scheme == "Bearer" else None
            if claims is None:
                reply.json({"error": "invalid_token"}, 401)
                return
            reply.json({**claims, "sub": self.userinfo_sub} if self.userinfo_sub else claims)

    def reset_user(self) -> None:
        """The default user, signed honestly."""
        self.claims: dict[str, Any] = dict(DEFAULT_CLAIMS)
        self.sign_with_other_key = False
        self.wrong_nonce = False
        self.userinfo_sub: str | None = None

    def reset(self) -> None:
        super().reset()
        self.reset_user()

    def _client_authenticated(self, request: Received, form: dict[str, str]) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Basic":
            user, _, password = base64.b64decode(value).decode().partition(":")
            pair = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password))
        else:
            pair = (form.get("client_id", ""), form.get("client_secret", ""))
        return pair == (CLIENT_ID, CLIENT_SECRET)

    def _id_token(self, claims: dict[str, Any], nonce: str | None) -> str:
        now = int(time.time())
        payload = {**claims, "iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                   "nonce": "not-the-nonce-asked-for" if self.wrong_nonce else nonce}
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, payload, key)


def _pkce_ok(params: dict[str, str], form: dict[str, str]) -> bool:
    challenge = params.get("code_challenge")
    if not challenge:
        return True
    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
