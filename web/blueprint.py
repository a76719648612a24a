"""The Blueprint every API area uses."""
from __future__ import annotations

import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, loading each route's arguments with one instance of its schema: given a
    class, webargs builds a new instance (deep-copying every field) on every request."""

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
