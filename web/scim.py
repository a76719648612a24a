"""``/api/v1/scim/v2``: SCIM 2.0 provisioning for identity providers (docs/scim.md). The routes hand each
request to scim2-server over Switchyard's tables (``shared.services.scim``) and answer ``application/scim+json``,
errors included, as SCIM error bodies (RFC 7644 §3.12)."""
from __future__ import annotations

import json

from flask import Response, request
from scim2_models import Error, InvalidSyntaxException, SCIMException
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from werkzeug.exceptions import HTTPException

from shared.errors import ServiceError
from shared.services.scim import provider
from web.blueprint import Blueprint
from web.db import db
from web.errors import detail_for
from web.input_guards import InvalidJson

PREFIX = "/api/v1/scim/v2"
blp = Blueprint("scim", __name__, url_prefix=PREFIX, description="SCIM 2.0 provisioning")

RESOURCE_METHODS = ["GET", "PUT", "PATCH", "DELETE"]
RULES: dict[str, list[str]] = {
    "/ServiceProviderConfig": ["GET"],
    "/ResourceTypes": ["GET"],
    "/ResourceTypes/<resource_type_id>": ["GET"],
    "/Schemas": ["GET"],
    "/Schemas/<schema_id>": ["GET"],
    "/Users": ["GET", "POST"],
    "/Users/<user_id>": RESOURCE_METHODS,
    "/Groups": ["GET", "POST"],
    "/Groups/<group_id>": RESOURCE_METHODS,
    "/<path:other>": ["GET", "POST", *RESOURCE_METHODS[1:]],
}
"""Open WebUI's SCIM routes, the discovery resources by id, and every other path and method below the prefix
(``.search``, unknown endpoints), so that those answer SCIM errors too."""


def _send(answer: ScimResponse) -> Response:
    body = json.dumps(answer.body) if answer.body is not None else ""
    return Response(body, status=int(answer.status), headers=answer.headers)


def serve(**_path_values: str) -> Response:
    """Every SCIM operation: scim2-server reads the path, the query and the body."""
    scim_request = ScimRequest(
        method=request.method, base_url=request.root_url.rstrip("/") + PREFIX,
        path=request.path.removeprefix(PREFIX), query=request.args.to_dict(),
        headers=list(request.headers.items()), body=request.get_data(cache=True))
    return _send(provider.handle(db(), scim_request))


for rule, methods in RULES.items():
    blp.add_url_rule(rule, endpoint="serve", view_func=serve, methods=methods)


@blp.errorhandler(SCIMException)
@blp.errorhandler(ServiceError)
def _refused(error: Exception) -> Response:
    if isinstance(error, InvalidJson):
        error = InvalidSyntaxException(detail=str(error.detail))
    return _send(provider.error_response(error))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    """Werkzeug's refusals (a body over the size limit ...) as SCIM errors too."""
    refusal = SCIMException.from_error(Error(status=error.code or 500, detail=detail_for(error)))
    return _send(provider.error_response(refusal))
