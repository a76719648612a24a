"""
title: Word Count
description: Counts the words of a reply
icon_url: data:image/svg+xml;base64,PHN2Zy8+
"""
from pydantic import BaseModel


class Action:
    class Valves(BaseModel):
        unit: str = "words"

    def __init__(self):
        self.valves = self.Valves()

    async def action(self, body: dict, __user__=None, __event_emitter__=None) -> dict:
        words = len(body["messages"][-1]["content"].split())
        await __event_emitter__({"type": "status", "data": {"description": f"Counted {words}", "done": True}})
        return {"count": words, "unit": self.valves.unit, "by": __user__["name"]}
