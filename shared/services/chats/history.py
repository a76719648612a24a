"""The message tree inside a chat object: ``history.messages`` ({id: message}), ``history.currentId`` and
the flat ``messages`` list (the branch from the root to ``currentId``).

Pure functions over plain dicts; they return new objects and never change their arguments in place.
"""
from __future__ import annotations

import copy
import time


def history_of(chat: dict) -> dict:
    history = chat.get("history")
    return history if isinstance(history, dict) else {}


def messages_of(chat: dict) -> dict:
    messages = history_of(chat).get("messages")
    return messages if isinstance(messages, dict) else {}


def current_id(chat: dict) -> str | None:
    """The current leaf: ``history.currentId``, else the last message of the flat list."""
    current = history_of(chat).get("currentId")
    if isinstance(current, str) and current:
        return current
    flat = chat.get("messages")
    if isinstance(flat, list):
        for message in reversed(flat):
            if isinstance(message, dict) and isinstance(message.get("id"), str):
                return message["id"]
    return None


def _node(messages: dict, message_id) -> dict | None:
    """The message stored under ``message_id``, None when absent or not an object."""
    node = messages.get(message_id) if isinstance(message_id, str) else None
    return node if isinstance(node, dict) else None


def _children(messages: dict, message_id) -> list[str]:
    node = _node(messages, message_id)
    ids = node.get("childrenIds") if node else None
    return [c for c in ids if _node(messages, c) is not None] if isinstance(ids, list) else []


def has_message(chat: dict, message_id: str) -> bool:
    return _node(messages_of(chat), message_id) is not None


def _branch_ids(messages: dict, leaf_id: str | None) -> list[str]:
    ids: list[str] = []
    while _node(messages, leaf_id) is not None and leaf_id not in ids:
        ids.append(leaf_id)
        leaf_id = messages[leaf_id].get("parentId")
    return ids[::-1]


def branch(messages: dict, leaf_id: str | None) -> list[dict]:
    """The messages from the root down to ``leaf_id`` (cycles and dangling parents end the walk)."""
    return [messages[mid] for mid in _branch_ids(messages, leaf_id)]


def _with_child(messages: dict, parent_id: str | None, child_id: str) -> None:
    parent = _node(messages, parent_id)
    if parent is None:
        return
    children = parent.get("childrenIds") if isinstance(parent.get("childrenIds"), list) else []
    if child_id not in children:
        messages[parent_id] = {**parent, "childrenIds": [*children, child_id]}


def _last_descendant(messages: dict, message_id: str | None) -> str | None:
    """Follow the newest child from ``message_id`` down to a leaf."""
    seen: set[str] = set()
    while _node(messages, message_id) is not None and message_id not in seen:
        seen.add(message_id)
        children = _children(messages, message_id)
        if not children:
            break
        message_id = children[-1]
    return message_id


def _worker_owned(stored: dict, incoming: dict) -> bool:
    """An assistant reply the worker finished must not be overwritten by a client's unfinished placeholder."""
    return (
        isinstance(stored, dict) and isinstance(incoming, dict)
        and stored.get("role") == "assistant" and stored.get("done") is True and incoming.get("done") is not True
    )


def merge_history(stored: dict | None, incoming: dict) -> dict:
    """The history to save when a client posts ``incoming`` over ``stored``.

    The client's messages win, except that a message it does not carry is kept (a writer holding a
    stale copy never drops a reply saved meanwhile; deleting goes through the message route) and a
    finished assistant reply is never replaced by an unfinished one. When nothing needs merging the
    client's history is returned as it was sent.
    """
    stored_messages = (stored or {}).get("messages") if isinstance(stored, dict) else None
    incoming_messages = incoming.get("messages")
    if not isinstance(stored_messages, dict) or not isinstance(incoming_messages, dict):
        return incoming
    missing = [mid for mid in stored_messages if mid not in incoming_messages]
    kept = [mid for mid, m in incoming_messages.items() if _worker_owned(stored_messages.get(mid), m)]
    if not missing and not kept:
        return incoming
    merged = dict(incoming_messages)
    for mid in kept:
        merged[mid] = stored_messages[mid]
    for mid in missing:
        merged[mid] = stored_messages[mid]
    for mid in missing:
        if isinstance(merged[mid], dict):
            _with_child(merged, merged[mid].get("parentId"), mid)
    current = incoming.get("currentId")
    if current not in merged:
        current = stored.get("currentId") if stored.get("currentId") in merged else None
    return {**incoming, "messages": merged, "currentId": current}


def _with_branch(chat: dict, messages: dict, current: str | None) -> dict:
    history = {**history_of(chat), "messages": messages, "currentId": current}
    return {**chat, "history": history, "messages": branch(messages, current)}


def upsert(chat: dict, message: dict) -> tuple[dict, dict]:
    """Insert or update one message by its ``id``; returns the new chat and the saved message.

    A new message is linked under its ``parentId`` and becomes ``currentId``; an existing one keeps
    its place in the tree (its ``parentId``/``childrenIds``) and takes the other given fields.
    """
    message_id = message["id"]
    messages = dict(messages_of(chat))
    current = current_id(chat)
    stored = _node(messages, message_id)
    if stored is not None:
        links = {key: stored[key] for key in ("parentId", "childrenIds") if key in stored}
        saved = {**stored, **message, **links}
    else:
        saved = {
            **message,
            "parentId": message.get("parentId"),
            "childrenIds": message.get("childrenIds") if isinstance(message.get("childrenIds"), list) else [],
            "timestamp": message.get("timestamp") or int(time.time()),
        }
        current = message_id
    messages[message_id] = saved
    _with_child(messages, saved.get("parentId"), message_id)
    return _with_branch(chat, messages, current), saved


def delete(chat: dict, message_id: str) -> dict:
    """Remove a message and its direct replies (as Open WebUI does); their replies move up to its parent.

    ``currentId`` becomes the newest leaf under the parent (or under the roots). KeyError when the
    message is unknown.
    """
    messages = dict(messages_of(chat))
    message = _node(messages, message_id)
    if message is None:
        raise KeyError(message_id)
    children = [c for c in _children(messages, message_id) if c != message_id]
    gone = {message_id, *children}
    parent_id = message.get("parentId")
    if _node(messages, parent_id) is None or parent_id in gone:
        parent_id = None
    grandchildren = list(dict.fromkeys(g for c in children for g in _children(messages, c) if g not in gone))
    for mid in gone:
        del messages[mid]
    for grandchild in grandchildren:
        messages[grandchild] = {**messages[grandchild], "parentId": parent_id}
    if parent_id is not None:
        siblings = [c for c in _children(messages, parent_id) if c not in grandchildren]
        messages[parent_id] = {**messages[parent_id], "childrenIds": siblings + grandchildren}
        current = _last_descendant(messages, parent_id)
    else:
        roots = [mid for mid in messages
                 if _node(messages, mid) is not None and _node(messages, messages[mid].get("parentId")) is None]
        current = _last_descendant(messages, roots[-1]) if roots else None
    return _with_branch(chat, messages, current)


def fork(messages: dict, leaf_id: str) -> tuple[dict, list[dict]]:
    """A new history holding only the branch from the root to ``leaf_id`` (KeyError when it is unknown).

    Unfinished assistant replies in it are marked done: nothing will ever finish them in the fork.
    """
    if _node(messages, leaf_id) is None:
        raise KeyError(leaf_id)
    copies: dict[str, dict] = {}
    parent_id = None
    for mid in _branch_ids(messages, leaf_id):
        copied = {**copy.deepcopy(messages[mid]), "id": mid, "parentId": parent_id, "childrenIds": []}
        if copied.get("role") == "assistant" and copied.get("done") is False:
            copied["done"] = True
        if parent_id is not None:
            copies[parent_id]["childrenIds"] = [mid]
        copies[mid] = copied
        parent_id = mid
    return {"messages": copies, "currentId": leaf_id}, list(copies.values())
