"""What the SCIM service announces (schemas, resource types, capabilities) and who may call it."""
from __future__ import annotations

import hmac
from functools import lru_cache

from scim2_models import (
    AuthenticationScheme, Bulk, ChangePassword, EnterpriseUser, Error, ETag, Filter, ForbiddenException, Group, Patch,
    ResourceType, SCIMException, ScimProvider, ServiceProviderConfig, Sort, UnauthorizedException, User,
)
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation
from scim2_server.service import ScimService
from sqlalchemy.orm import Session

from shared.config import env
from shared.errors import ServiceError
from shared.services.scim.storage import TableStorage

MAX_RESULTS = 1000
"""The most resources one list answers (a client pages through more with ``startIndex``)."""
DISABLED = "SCIM is not enabled"


@lru_cache(maxsize=1)
def service() -> ScimService:
    """The protocol, built once: users (with the enterprise extension identity providers send) and groups.
    Bulk and password changes are not offered: accounts provisioned by SCIM sign in through single sign-on."""
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token",
            description="The token set as SCIM_TOKEN, sent as `Authorization: Bearer <token>`", primary=True)],
    )
    provider = ScimProvider(
        models=[User, EnterpriseUser, Group],
        resource_types=[ResourceType.from_resource(User[EnterpriseUser]), ResourceType.from_resource(Group)],
        config=config,
    )
    return ScimService(provider)


def check_token(authorization: str | None) -> None:
    """Let the caller through only with the configured token (compared in constant time), as Open WebUI
    decides: no or malformed credentials 401, SCIM switched off 403, a wrong or unset token 401."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedException(detail="Authorization header required: Bearer <token>")
    if not env("ENABLE_SCIM"):
        raise ForbiddenException(detail=DISABLED)
    expected = env("SCIM_TOKEN")
    if not expected or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise UnauthorizedException(detail="Invalid SCIM token")


def _is_public(request: ScimRequest) -> bool:
    """The service provider configuration is readable without credentials (RFC 7643 §5), as in Open WebUI."""
    try:
        return service().match(request).operation is Operation.service_provider_config
    except SCIMException:
        return False


def handle(session: Session, request: ScimRequest) -> ScimResponse:
    """Serve one SCIM request over the tables, in the caller's session."""
    if not _is_public(request):
        check_token(request.header("Authorization"))
    return ScimHandler(service(), TableStorage(session)).handle(request)


_SCIM_TYPES = {400: "invalidValue", 409: "uniqueness"}


def error_response(error: Exception) -> ScimResponse:
    """The SCIM error body (RFC 7644 §3.12) of a refusal: the protocol's own, or a Switchyard service's
    (``{"detail"}`` errors, with the ``scimType`` their status means)."""
    if isinstance(error, ServiceError):
        error = SCIMException.from_error(Error(status=error.status, scim_type=_SCIM_TYPES.get(error.status),
                                               detail=str(error.detail)))
    return service().error_response(error)
