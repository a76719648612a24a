"""scim2-server's storage over Switchyard's tables: it reads and writes through the users and groups modules,
and answers searches by evaluating the filter with scim2-models over the resources of each type searched (the
tables narrow down a lookup by id, ``userName``, ``displayName`` or ``externalId`` first)."""
from __future__ import annotations

from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

from scim2_models import Resource, ResourceType, ResponseParameters, ScimFilter, SearchRequest
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage
from sqlalchemy.orm import Session

from shared.services.scim import groups, users

_BY_TYPE: dict[str, ModuleType] = {users.RESOURCE_TYPE: users, groups.RESOURCE_TYPE: groups}


def _equality(scim_filter: ScimFilter[Any] | None) -> tuple[str, str] | None:
    """The attribute and the value of a filter that is a single ``eq`` on a top-level string attribute (what
    identity providers send before each creation), which the tables narrow down before the filter runs."""
    node = scim_filter.ast if scim_filter is not None else None
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq or not isinstance(node.value, str):
        return None
    binding = scim_filter.resolve_comparison(node.attr_path, strict=False)
    if binding is None or binding.sub_field_name is not None:
        return None
    return binding.field_name, node.value


def _sort_key(search_request: SearchRequest[Any], resource: Resource[Any]) -> tuple[bool, Any, str]:
    """By ``sortBy``'s value (missing values last), then by id, so that pages do not overlap."""
    value = search_request.sort_value(resource) if search_request.sort_by else None
    return value is None, value if value is not None else "", resource.id or ""


class TableStorage(ScimStorage):
    """One request's storage: it works in the request's session, committed when the request succeeds."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _kind(resource_type: ResourceType) -> ModuleType:
        return _BY_TYPE[str(resource_type.name)]

    def get(self, resource_type: ResourceType, resource_id: str, *,
            response_parameters: ResponseParameters[Any] | None = None) -> Resource[Any]:
        return self._kind(resource_type).get(self.session, resource_id)

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any], *,
               position: Any = None) -> SearchPage:
        """Filter, sort and page the resources of the types searched as one list (RFC 7644 §3.4.2); the filter
        is read against each type's schema, so an attribute a type does not have matches none of its resources."""
        found: list[Resource[Any]] = []
        for resource_type in resource_types:
            kind = self._kind(resource_type)
            scim_filter = ScimFilter[kind.MODEL](str(search_request.filter)) if search_request.filter else None
            found += [resource for resource in kind.load_all(self.session, _equality(scim_filter))
                      if scim_filter is None or scim_filter.match(resource)]
        descending = bool(search_request.sort_by) and search_request.sort_order == SearchRequest.SortOrder.descending
        found.sort(key=lambda resource: _sort_key(search_request, resource), reverse=descending)
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(total=len(found), resources=found[start:stop])

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        return self._kind(resource_type).create(self.session, resource)

    def update(self, resource_type: ResourceType, resource: Resource[Any], *,
               expected_version: str | None = None) -> Resource[Any]:
        return self._kind(resource_type).replace(self.session, resource, expected_version)

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None) -> None:
        self._kind(resource_type).delete(self.session, resource_id, expected_version)

    def operation(self) -> AbstractContextManager[None]:
        """A savepoint: a refused operation leaves nothing half-written in the request's session."""
        return self.session.begin_nested()
