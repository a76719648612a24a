"""Every route of the app's URL map as something a test can call: route-walking sweeps build on this.

A new route joins every sweep by existing; nothing here lists routes by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask
from marshmallow import Schema, fields
from werkzeug.routing import AnyConverter, IntegerConverter, MapAdapter, Rule

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """One method of one URL rule, with the fields its flask-smorest schemas declare."""

    rule: Rule
    method: str
    adapter: MapAdapter
    query_fields: dict[str, fields.Field]
    body_fields: dict[str, fields.Field]

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.rule}"

    @property
    def arguments(self) -> tuple[str, ...]:
        return tuple(sorted(self.rule.arguments))

    def is_integer(self, argument: str) -> bool:
        return isinstance(self.rule._converters.get(argument), IntegerConverter)

    def path(self, value: Callable[[str], object]) -> str:
        """The rule's path with each argument replaced by ``value(argument)`` (percent-encoded); an argument
        that only takes named values (werkzeug's ``any``) gets the first of them."""
        return self.adapter.build(self.rule.endpoint, {arg: self._choice(arg) or value(arg)
                                                       for arg in self.rule.arguments}, method=self.method)

    def _choice(self, argument: str) -> str | None:
        converter = self.rule._converters.get(argument)
        return sorted(converter.items)[0] if isinstance(converter, AnyConverter) else None


def _schema_fields(view: Callable, location: str) -> dict[str, fields.Field]:
    found: dict[str, fields.Field] = {}
    for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        schema = parameter.get("schema")
        if parameter.get("in") == location and isinstance(schema, Schema):
            found.update({field.data_key or name: field for name, field in schema.fields.items()})
    return found


def routes(app: Flask) -> Iterator[Route]:
    """Every (rule, method) of ``app``, in a stable order."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        for method in METHODS:
            if method in (rule.methods or ()):
                yield Route(rule, method, adapter, _schema_fields(view, "query"), _schema_fields(view, "json"))
