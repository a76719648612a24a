"""The signed-in user's own usage statistics (Open WebUI's ``GET /api/v1/users/usage``): tokens, messages,
chats, streaks, a day-by-day heatmap and the most used models and tools.

Open WebUI reads these from its ``chat_message`` table, a copy of every message of every chat. Switchyard keeps
messages only inside the chat object (``chat.history.messages``), so the same figures are computed from those:
one message there is one ``chat_message`` row there (its owner the chat's, ``created_at`` its ``timestamp``,
``model_id`` its ``model``, ``usage`` its normalised ``usage``)."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.models import Chat, User
from shared.services.chats import store

DAY = 86400
DEFAULT_DAYS = 730
ACTIVE_CHAT_GAP_SECONDS = 30 * 60
"""Two messages of a chat further apart than this are two sittings: the gap does not count as chat time."""
TOP = 5
BAD_PERIOD = "start_date must be before end_date"


@dataclass(frozen=True)
class Message:
    chat_id: str
    internal: bool
    role: str
    model_id: str | None
    usage: dict | None
    created_at: int
    output: Any
    meta: Any

    @property
    def tokens(self) -> tuple[int, int]:
        """(input, output) tokens, as Open WebUI's SQL reads them from the normalised usage."""
        if not self.usage:
            return 0, 0
        return (_int(self.usage.get("input_tokens", self.usage.get("prompt_tokens"))),
                _int(self.usage.get("output_tokens", self.usage.get("completion_tokens"))))


def _int(value: Any) -> int:
    """A client-written count or time as an int (0 when it is not a number)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def normalize_usage(usage: Any) -> dict | None:
    """Open WebUI's ``normalize_usage``: OpenAI, Ollama and llama.cpp counts as input/output/total tokens."""
    if not isinstance(usage, dict) or not usage:
        return None
    input_tokens = usage.get("input_tokens") or usage.get("prompt_tokens") or usage.get("prompt_eval_count")
    if input_tokens is None:
        input_tokens = _int(usage.get("prompt_n")) + _int(usage.get("cache_n"))
    output_tokens = (usage.get("output_tokens") or usage.get("completion_tokens") or usage.get("eval_count")
                     or usage.get("predicted_n") or 0)
    total = usage.get("total_tokens") or (_int(input_tokens) + _int(output_tokens))
    return {**usage, "input_tokens": _int(input_tokens), "output_tokens": _int(output_tokens),
            "total_tokens": _int(total)}


def messages_of(session: Session, user_id: str) -> Iterator[Message]:
    """Every message of the user's chats (a note's hidden chats too, as Open WebUI's message table has them)."""
    rows = session.execute(select(Chat.id, Chat.chat, Chat.meta, Chat.created_at).where(Chat.user_id == user_id))
    for chat_id, chat, meta, chat_created in rows:
        history = chat.get("history") if isinstance(chat, dict) else None
        stored = history.get("messages") if isinstance(history, dict) else None
        internal = bool((meta or {}).get("internal"))
        for message in (stored or {}).values():
            if not isinstance(message, dict):
                continue
            info = message.get("info") if isinstance(message.get("info"), dict) else {}
            model_id = message.get("model_id") or message.get("model")
            yield Message(chat_id=chat_id, internal=internal, role=str(message.get("role") or ""),
                          model_id=model_id if isinstance(model_id, str) and model_id else None,
                          usage=normalize_usage(message.get("usage") or info.get("usage")),
                          created_at=_int(message.get("timestamp")) or int(chat_created or time.time()),
                          output=message.get("output"), meta=message.get("meta"))


def _seconds(timestamp: int) -> float:
    """Open WebUI's ``_normalize_timestamp``: milliseconds as seconds; implausible times as now."""
    current = time.time()
    value = timestamp / 1000 if timestamp > 10_000_000_000 else timestamp
    return value if 1577836800 <= value <= current + DAY else current


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _date(timestamp: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(_seconds(timestamp), tz=zone).strftime("%Y-%m-%d")


def _summary(messages: list[Message], zone: ZoneInfo | None) -> dict:
    """Counts by role, tokens of answers, distinct models answering and (with ``zone``) active days."""
    roles = Counter(m.role for m in messages)
    answers = [m for m in messages if m.role == "assistant"]
    input_tokens = sum(m.tokens[0] for m in answers if m.usage)
    output_tokens = sum(m.tokens[1] for m in answers if m.usage)
    return {"messages": len(messages), "user_messages": roles["user"], "assistant_messages": roles["assistant"],
            "input_tokens": input_tokens, "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "models_used": len({m.model_id for m in answers if m.model_id}),
            "active_days": len({_date(m.created_at, zone) for m in messages}) if zone else 0}


def _chat_stats(session: Session, user_id: str, messages: list[Message]) -> dict:
    """Chats in the lists (not a note's hidden ones) and the longest time spent in one: the gaps between its
    messages, those longer than :data:`ACTIVE_CHAT_GAP_SECONDS` left out."""
    total = session.scalar(select(func.count()).select_from(Chat).where(store.listed(user_id))) or 0
    by_chat: dict[str, list[int]] = {}
    for m in messages:
        if not m.internal:
            by_chat.setdefault(m.chat_id, []).append(m.created_at // 1000 if m.created_at > 10_000_000_000
                                                     else m.created_at)
    longest = 0
    for stamps in by_chat.values():
        stamps.sort()
        longest = max(longest, sum(b - a for a, b in zip(stamps, stamps[1:]) if 0 < b - a <= ACTIVE_CHAT_GAP_SECONDS))
    return {"total_chats": total, "longest_chat_seconds": longest}


def _daily(messages: list[Message], start: int, end: int, zone: ZoneInfo) -> list[dict]:
    """One entry a day from ``start`` to ``end`` (days without messages too): messages, chats, tokens and the
    answers of each model."""
    days: dict[str, dict] = {}

    def day(date: str) -> dict:
        return days.setdefault(date, {"date": date, "messages": 0, "chat_ids": set(), "tokens": 0,
                                      "models": Counter()})

    for m in messages:
        entry = day(_date(m.created_at, zone))
        entry["messages"] += 1
        entry["chat_ids"].add(m.chat_id)
        if m.role == "assistant" and m.model_id:
            entry["models"][m.model_id] += 1
        if m.usage:
            entry["tokens"] += sum(m.tokens)
    current = datetime.fromtimestamp(_seconds(start), tz=zone).replace(hour=0, minute=0, second=0, microsecond=0)
    last = datetime.fromtimestamp(_seconds(end), tz=zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while current <= last:
        day(current.strftime("%Y-%m-%d"))
        current += timedelta(days=1)
    return [{"date": e["date"], "messages": e["messages"], "chats": len(e["chat_ids"]), "tokens": e["tokens"],
             "models": dict(e["models"])} for e in sorted(days.values(), key=lambda e: e["date"])]


def _top_models(messages: list[Message]) -> list[dict]:
    counts: dict[str, list[int]] = {}
    for m in messages:
        if m.role == "assistant" and m.model_id:
            entry = counts.setdefault(m.model_id, [0, 0, 0])
            entry[0] += 1
            entry[1] += m.tokens[0]
            entry[2] += m.tokens[1]
    ranked = sorted(counts.items(), key=lambda item: -item[1][0])[:TOP]
    return [{"model_id": model_id, "messages": n, "input_tokens": i, "output_tokens": o, "total_tokens": i + o}
            for model_id, (n, i, o) in ranked]


def tool_names(value: Any) -> list[str]:
    """Open WebUI's ``_extract_tool_names``: the tools named in a message's ``output`` or ``meta``."""
    names: list[str] = []

    def add(name: Any) -> None:
        if isinstance(name, str) and name.strip() and len(name.strip()) <= 128:
            names.append(name.strip())

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for child in item:
                walk(child)
            return
        if not isinstance(item, dict):
            return
        kind = str(item.get("type") or "")
        if "tool" in kind or kind in {"function_call", "function_call_output"}:
            add(item.get("name") or item.get("tool_name"))
            if isinstance(item.get("function"), dict):
                add(item["function"].get("name"))
        for key in ("tool_calls", "tools", "output", "meta"):
            if key in item:
                walk(item[key])

    walk(value)
    return names


def _top_tools(messages: list[Message]) -> list[dict]:
    counts: Counter[str] = Counter()
    for m in messages:
        counts.update(tool_names(m.output))
        counts.update(tool_names(m.meta))
    return [{"name": name, "count": count} for name, count in counts.most_common(TOP)]


def _streaks(heatmap: list[dict]) -> dict[str, int]:
    """The longest run of days with messages, and the run that ends on the period's last day."""
    longest = run = 0
    for day in heatmap:
        run = run + 1 if day["messages"] > 0 else 0
        longest = max(longest, run)
    current = 0
    for day in reversed(heatmap):
        if day["messages"] <= 0:
            break
        current += 1
    return {"current": current, "longest": longest}


def _add(total: dict, day: dict) -> None:
    for field in ("messages", "chats", "tokens"):
        total[field] += day[field]
    total["models"].update(day["models"])


def _empty(date: str) -> dict:
    return {"date": date, "messages": 0, "chats": 0, "tokens": 0, "models": Counter()}


def _weekly(heatmap: list[dict]) -> list[dict]:
    """The days summed by week (weeks start on Monday)."""
    weeks: dict[str, dict] = {}
    for day in heatmap:
        week = _week_of(day["date"])
        _add(weeks.setdefault(week, _empty(week)), day)
    return [{**weeks[w], "models": dict(weeks[w]["models"])} for w in sorted(weeks)]


def _cumulative(heatmap: list[dict]) -> list[dict]:
    """Each day with the running totals up to it."""
    running, out = _empty(""), []
    for day in heatmap:
        _add(running, day)
        out.append({**running, "date": day["date"], "models": dict(running["models"])})
    return out


def _week_of(date: str) -> str:
    day = datetime.strptime(date, "%Y-%m-%d")
    return (day - timedelta(days=day.weekday())).strftime("%Y-%m-%d")


def _share(part: int, whole: int) -> float:
    return round(part / whole * 100, 1) if whole else 0


def usage(session: Session, user: User, *, days: int | None = None, start_date: int | None = None,
          end_date: int | None = None) -> dict:
    """Open WebUI's ``UserUsageResponse`` for ``user``: lifetime totals, and for the period (``start_date`` to
    ``end_date``, or the ``days`` before ``end_date``, two years by default) the heatmaps, streaks and tops."""
    period_end = end_date or int(time.time())
    period_start = start_date if start_date is not None else period_end - ((days or DEFAULT_DAYS) - 1) * DAY
    if period_start > period_end:
        raise BadRequest(BAD_PERIOD)
    zone = _zone(user.timezone)
    everything = list(messages_of(session, user.id))
    in_period = [m for m in everything if period_start <= m.created_at <= period_end]
    lifetime, period = _summary(everything, None), _summary(in_period, zone)
    chats = _chat_stats(session, user.id, everything)
    heatmap = _daily(in_period, period_start, period_end, zone)
    top_models = _top_models(in_period)
    streaks = _streaks(heatmap)
    messages, active_days = period["messages"], period["active_days"]
    return {
        "totals": {
            "lifetime_tokens": lifetime["total_tokens"], "input_tokens": lifetime["input_tokens"],
            "output_tokens": lifetime["output_tokens"],
            "peak_daily_tokens": max((d["tokens"] for d in heatmap), default=0),
            "longest_chat_seconds": chats["longest_chat_seconds"], "current_streak": streaks["current"],
            "longest_streak": streaks["longest"], "total_chats": chats["total_chats"], "active_days": active_days,
            "models_used": lifetime["models_used"], "messages": messages,
            "user_messages": period["user_messages"], "assistant_messages": period["assistant_messages"],
        },
        "heatmap": heatmap,
        "weekly_heatmap": _weekly(heatmap),
        "cumulative_heatmap": _cumulative(heatmap),
        "insights": {
            "most_used_model": top_models[0]["model_id"] if top_models else None,
            "average_tokens_per_chat": (round(lifetime["total_tokens"] / chats["total_chats"], 1)
                                        if chats["total_chats"] else 0),
            "average_messages_per_active_day": round(messages / active_days, 1) if active_days else 0,
            "user_message_share": _share(period["user_messages"], messages),
            "assistant_message_share": _share(period["assistant_messages"], messages),
        },
        "top_models": top_models,
        "top_tools": _top_tools(in_period),
        "period": {"start_date": period_start, "end_date": period_end,
                   "days": max(1, int((period_end - period_start) / DAY) + 1)},
    }
