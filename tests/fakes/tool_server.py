"""A fake OpenAPI tool server (what Open WebUI's ``openapi-servers`` examples serve) on 127.0.0.1::

    fake = FakeToolServer(api_key="tool-key").start()
    fake.url                                  # "http://127.0.0.1:<port>"
    fake.received("/weather")[-1].params      # {"city": "Paris"}

Routes: ``GET /openapi.json`` (an OpenAPI 3.1 document: ``get_weather`` takes the ``city`` query parameter,
``add_numbers`` a JSON body ``{a, b}`` described by a ``$ref``), ``GET /weather``, ``POST /add``. The operations
need ``Authorization: Bearer <api_key>`` (401 ``{"detail": ...}`` otherwise, as FastAPI answers).
"""
from __future__ import annotations

from tests.fakes.server import FakeUpstream, Received, Reply

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Weather and sums", "description": "Tools for the tests", "version": "1.0"},
    "paths": {
        "/weather": {"get": {
            "operationId": "get_weather", "summary": "The weather in a city",
            "parameters": [{"name": "city", "in": "query", "required": True,
                            "schema": {"type": "string", "description": "The city"}}],
        }},
        "/add": {"post": {
            "operationId": "add_numbers", "description": "Add two numbers",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Pair"}}}},
        }},
    },
    "components": {"schemas": {"Pair": {"type": "object", "required": ["a", "b"], "properties": {
        "a": {"type": "number", "description": "The first"}, "b": {"type": "number", "description": "The second"}}}}},
}


class FakeToolServer(FakeUpstream):
    def __init__(self, api_key: str = "tool-key") -> None:
        super().__init__()
        self.api_key = api_key

        @self.route("GET", "/openapi.json")
        def document(_request: Received, reply: Reply) -> None:
            reply.json(DOCUMENT)

        @self.route("GET", "/weather")
        def weather(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            reply.json({"city": request.params.get("city"), "sky": "clear", "celsius": 21})

        @self.route("POST", "/add")
        def add(request: Received, reply: Reply) -> None:
            if self._refused(request, reply):
                return
            body = request.body or {}
            reply.json({"sum": body.get("a", 0) + body.get("b", 0)})

    def _refused(self, request: Received, reply: Reply) -> bool:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            reply.json({"detail": "Not authenticated"}, 401)
            return True
        return False
