"""The buttons under a reply (Open WebUI's action functions, ``POST /api/chat/actions/{id}``): which one a user may
press for which model, and the job that runs it; its events reach the chat's browsers as it runs."""
from __future__ import annotations

from sqlalchemy.orm import Session

from shared.errors import BadRequest
from shared.jobs import catalog
from shared.models import Function, Job, User
from shared.services import functions
from shared.services.chats import turns
from shared.services.llm import gateway


def start(session: Session, user: User, action_id: str, form: dict) -> Job:
    """Run action ``action_id`` (``function.sub`` names one of a module's several) on a reply of the caller's
    chat; the model must be one the user may use and the action one it shows (admins: any active action)."""
    turns.check_named_chat(session, user, form.get("chat_id"))
    function_id = action_id.split(".", 1)[0]
    action = session.get(Function, function_id)
    if action is None or action.type != "action" or not action.is_active:
        raise BadRequest(f"Action not available: {action_id}")
    model = gateway.callable_model(session, user, form.get("model"))
    if user.role != "admin" and function_id not in {b["id"] for b in functions.actions_for(
            (model or {}).get("info"), [action])}:
        raise BadRequest(f"Action not available: {action_id}")
    body = {k: v for k, v in form.items() if k != "model_item"}
    extra = {"__user__": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
             "__model__": model or {"id": form.get("model")}, "__id__": action_id.split(".", 1)[-1],
             "__chat_id__": form.get("chat_id"), "__message_id__": form.get("id")}
    return catalog.send(session, catalog.CALL_EXTENSION,
                        catalog.CallExtension("function", function_id, user.id, "action", {"body": body}, extra,
                                              deliver=True),
                        owner_id=user.id, kind="function.action",
                        related_type="chat" if form.get("chat_id") else None, related_id=form.get("chat_id"))
