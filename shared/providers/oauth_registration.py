"""An OAuth 2.1 client for a tool server, as Open WebUI builds one: the resource's RFC 9728 metadata (its
authorization servers, scopes, resource indicator), the authorization server's RFC 8414 / OIDC metadata, and
either the admin's static credentials or an RFC 7591 dynamic client registration at its registration endpoint.
The answer is Open WebUI's ``OAuthClientInformationFull`` as JSON."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.errors import UpstreamError
from shared.providers.upstream import Upstream

NAME = "OAuth server"
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
DEFAULT_AUTH_METHOD = "client_secret_post"


@dataclass(frozen=True)
class Resource:
    """What RFC 9728 metadata says of the protected resource (empty when it publishes none)."""

    resource: str | None = None
    authorization_servers: list[str] = field(default_factory=list)
    scopes_supported: list[str] = field(default_factory=list)


def _origin_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def _get(url: str, timeout: float) -> Any:
    """A JSON document, or None when it is not there (an HTTP error, or not JSON); a server that cannot be
    reached (or does not answer in time) raises, as nothing else there will answer either."""
    origin, path = _origin_and_path(url)
    try:
        return Upstream(NAME, origin, timeout=timeout).json("GET", path)
    except UpstreamError as error:
        if error.transient and error.upstream_status is None:
            raise
        return None


def protected_resource(server_url: str, timeout: float) -> Resource:
    """RFC 9728 §4.2: ``/.well-known/oauth-protected-resource`` (path-suffixed first)."""
    origin, path = _origin_and_path(server_url)
    candidates = ([f"{origin}/.well-known/oauth-protected-resource{path}"] if path else []) + [
        f"{origin}/.well-known/oauth-protected-resource"]
    for url in candidates:
        found = _get(url, timeout)
        if isinstance(found, dict) and found.get("authorization_servers"):
            return Resource(found.get("resource") or None, list(found["authorization_servers"]),
                            list(found.get("scopes_supported") or []))
    return Resource()


def _well_known_urls(server_url: str) -> list[str]:
    """RFC 8414 and OIDC discovery URLs for a server URL, path-aware first (Open WebUI's order)."""
    origin, path = _origin_and_path(server_url)
    urls = [f"{origin}/.well-known/oauth-authorization-server{path}", f"{origin}/.well-known/openid-configuration"
            f"{path}", f"{origin}{path}/.well-known/openid-configuration"] if path else []
    return urls + [f"{origin}/.well-known/oauth-authorization-server", f"{origin}/.well-known/openid-configuration"]


def server_metadata(server_url: str, resource: Resource, timeout: float) -> tuple[dict, str | None]:
    """The authorization server's metadata and the URL it came from; without any, the MCP 2025-03-26 defaults
    at the server's origin (unless the resource named authorization servers, which must then answer)."""
    urls = [url for server in resource.authorization_servers for url in _well_known_urls(server.rstrip("/"))]
    for url in urls + _well_known_urls(server_url):
        found = _get(url, timeout)
        if isinstance(found, dict) and found.get("authorization_endpoint") and found.get("token_endpoint"):
            return found, url
    if resource.authorization_servers:
        raise ValueError(f"Could not discover the OAuth authorization server metadata for {server_url}")
    origin, _ = _origin_and_path(server_url)
    return {"issuer": origin, "authorization_endpoint": f"{origin}/authorize", "token_endpoint": f"{origin}/token",
            "registration_endpoint": f"{origin}/register"}, None


def _scope(requested: str | None, resource: Resource) -> str | None:
    """The admin's scopes (comma or space separated), else the resource's own (least privilege)."""
    if requested and requested.replace(",", " ").split():
        return " ".join(requested.replace(",", " ").split())
    return " ".join(resource.scopes_supported) or None


def _client(fields: dict, metadata: dict, metadata_url: str | None, resource: Resource) -> dict:
    return {"redirect_uris": [], "token_endpoint_auth_method": DEFAULT_AUTH_METHOD,
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "client_secret": None, "client_id_issued_at": None, "client_secret_expires_at": None,
            "oauth_resource_parameter": "auto", **fields,
            "issuer": metadata_url, "server_metadata": metadata, "resource": resource.resource}


def static_client(server_url: str, redirect_uri: str, client_id: str, client_secret: str, scope: str | None,
                  timeout: float) -> dict:
    """The admin's credentials with the server's metadata; no registration."""
    resource = protected_resource(server_url, timeout)
    metadata, metadata_url = server_metadata(server_url, resource, timeout)
    supported = metadata.get("token_endpoint_auth_methods_supported") or []
    method = DEFAULT_AUTH_METHOD
    if supported and method not in supported:
        method = "client_secret_basic" if "client_secret_basic" in supported else supported[0]
    return _client({"client_id": client_id, "client_secret": client_secret, "redirect_uris": [redirect_uri],
                    "scope": _scope(scope, resource), "token_endpoint_auth_method": method},
                   metadata, metadata_url, resource)


def registered_client(server_url: str, redirect_uri: str, scope: str | None, timeout: float) -> dict:
    """RFC 7591: register Open WebUI's client at the server's registration endpoint (``/register`` at its
    origin when it names none); the server's answer, with the scope asked for when it says none."""
    resource = protected_resource(server_url, timeout)
    metadata, metadata_url = server_metadata(server_url, resource, timeout)
    wanted = _scope(scope, resource) or " ".join(metadata.get("scopes_supported") or []) or None
    supported = metadata.get("token_endpoint_auth_methods_supported") or []
    method = DEFAULT_AUTH_METHOD if not supported or DEFAULT_AUTH_METHOD in supported else supported[0]
    request = {"client_name": "Open WebUI", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": method,
               "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
               **({"scope": wanted} if wanted else {})}
    endpoint = metadata.get("registration_endpoint") or f"{_origin_and_path(server_url)[0]}/register"
    origin, path = _origin_and_path(endpoint)
    answer = Upstream(NAME, origin, timeout=timeout).json("POST", path, request)
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise ValueError(f"Dynamic client registration failed: {answer}")
    answer = {key: None if value == "" else value for key, value in answer.items()}
    return _client({**request, **answer, "scope": answer.get("scope") or wanted}, metadata, metadata_url, resource)
