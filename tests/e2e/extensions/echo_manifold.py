"""
title: Echo Manifold
description: A pipe with two models, each answering what it was told
"""
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = Field(default="Echo", description="Put before each answer.")

    def __init__(self):
        self.valves = self.Valves()

    def pipes(self):
        return [{"id": "plain", "name": " plain"}, {"id": "loud", "name": " loud"}]

    def pipe(self, body: dict, __id__: str = ""):
        text = body["messages"][-1]["content"]
        for word in f"{self.valves.PREFIX} ({__id__}): {text.upper() if __id__ == 'loud' else text}".split(" "):
            yield word + " "
