"""The Blueprint every API area uses."""
from __future__ import annotations

import flask_smorest

from web.input_guards import ArgumentsParser


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, loading each route's arguments with one instance of its schema: given a
    class, webargs builds a new instance (deep-copying every field) on every request. JSON bodies are read as
    the app-wide input guard parsed and checked them."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
