"""
title: Leet
description: Rewrites every streamed chunk of the answer
"""


class Filter:
    def __init__(self):
        self.chunks = 0

    def stream(self, event: dict) -> dict:
        self.chunks += 1
        for choice in event.get("choices", []):
            delta = choice.get("delta") or {}
            if delta.get("content"):
                delta["content"] = delta["content"].replace("e", "3") + f"[{self.chunks}]"
        return event
