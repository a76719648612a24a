"""OAuth 2.1 clients for tool servers (Open WebUI's ``/api/v1/configs/oauth/clients/register``): the admin's
form becomes a job that discovers the server and registers a client (or takes the admin's static credentials);
its answer is the client information encrypted with this deployment's key, which the admin stores with the
tool server's settings (``info.oauth_client_info``)."""
from __future__ import annotations

import json

from sqlalchemy.orm import Session

from shared.crypto import decrypt, encrypt
from shared.errors import BadRequest, ServiceError
from shared.jobs import catalog
from shared.models import Job, User
from shared.providers import oauth_registration
from shared.services import app_config
from shared.services.llm import connections

FAILED = "Failed to register OAuth client: {}"


def start_register(session: Session, user: User, form: dict, kind: str | None, host_url: str) -> Job:
    """Send the job; ``kind`` (the ``type`` query) prefixes the client id in the callback URL, which is under
    ``WEBUI_URL`` when set, else the URL the admin called (as Open WebUI)."""
    base_url = app_config.get(session, "ui.webui_url") or host_url
    client_id = f"{kind}:{form['client_id']}" if kind else form["client_id"]
    server_url = form.get("oauth_server_url") or form["url"]
    if not server_url.startswith(("http://", "https://")):
        raise BadRequest(FAILED.format("the server URL must start with http:// or https://"))
    secret = form.get("client_secret")
    payload = catalog.OAuthClient(server_url=server_url, client_id=form["client_id"],
                                  redirect_uri=f"{base_url.rstrip('/')}/oauth/clients/{client_id}/callback",
                                  client_secret=encrypt(secret) if secret else None, scope=form.get("oauth_scope"))
    return catalog.send(session, catalog.REGISTER_OAUTH_CLIENT, payload, owner_id=user.id)


def register(session: Session, client: catalog.OAuthClient) -> dict:
    """The job's step: ``{status: true, oauth_client_info: <encrypted JSON>}``; any failure is a 400 that says
    why (Open WebUI's message)."""
    timeout = connections.timeouts(session)[1]
    try:
        if client.client_secret:
            info = oauth_registration.static_client(client.server_url, client.redirect_uri, client.client_id,
                                                    decrypt(client.client_secret) or "", client.scope, timeout)
        else:
            info = oauth_registration.registered_client(client.server_url, client.redirect_uri, client.scope, timeout)
    except (ServiceError, ValueError) as error:
        raise BadRequest(FAILED.format(getattr(error, "detail", None) or error)) from error
    return {"status": True, "oauth_client_info": encrypt(json.dumps(info))}

