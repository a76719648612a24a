"""What users and groups share as SCIM resources: their ``meta`` (dates and a version that changes with their
content) and the lookups of the rows they are stored in."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from scim2_models import Meta, NotFoundException, PreconditionFailedException, Resource


def moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def version_of(resource: Resource[Any]) -> str:
    """A weak ETag from the resource's content, so that it changes with any change (a membership, an attribute
    an admin changed outside SCIM), even within the second ``updated_at`` keeps."""
    content = json.dumps(resource.model_dump(mode="json", exclude={"meta"}), sort_keys=True, default=str)
    return f'W/"{hashlib.sha256(content.encode()).hexdigest()[:20]}"'


def with_meta(resource: Resource[Any], resource_type: str, created: int, updated: int) -> Resource[Any]:
    resource.meta = Meta(resource_type=resource_type, created=moment(created), last_modified=moment(updated))
    resource.meta.version = version_of(resource)
    return resource


def check_version(current: Resource[Any], expected: str | None) -> None:
    """Refuse a write made against another version than the stored one (``If-Match``)."""
    if expected is not None and current.meta is not None and current.meta.version != expected:
        raise PreconditionFailedException(detail="The resource changed since the version given in If-Match.")


def missing(resource_type: str, resource_id: str | None) -> NotFoundException:
    return NotFoundException(detail=f"{resource_type} {resource_id!r} not found")


def stored_attributes(resource: Resource[Any], *, leave_out: set[str]) -> dict[str, Any]:
    """The client's representation as JSON to keep, without what is computed or never returned."""
    return resource.model_dump(mode="json", exclude={"id", "meta", *leave_out})
