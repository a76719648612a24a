"""
title: Shout
description: Asks politely, answers loudly
version: 0.1
"""
from typing import Optional

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=0, description="Priority level for the filter operations.")
        suffix: str = Field(default=" please", description="Added to the last user message.")

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __user__: Optional[dict] = None, __event_emitter__=None) -> dict:
        await __event_emitter__({"type": "status", "data": {"description": "Asking politely", "done": True}})
        body["messages"][-1]["content"] += self.valves.suffix
        return body

    def outlet(self, body: dict, __user__: Optional[dict] = None) -> dict:
        body["messages"][-1]["content"] = body["messages"][-1]["content"].upper()
        return body
