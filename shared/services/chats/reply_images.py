"""A web-app reply that asks for an image (``features.image_generation``): the image is made before the model
answers, shown in the reply, and the model is told what happened, as Open WebUI's image step does (its words,
which models are prompted with, are kept)."""
from __future__ import annotations

from shared.errors import ServiceError
from shared.services import images
from shared.services.chats import reply_tasks
from shared.services.chats.delivery import ChatReply
from shared.services.llm import connections

CREATED = ("<context>The requested image has been created by the system successfully and is now being shown to the "
           "user. Let the user know that the image they requested has been generated and is now shown in the "
           "chat.</context>")
DISABLED = ("<context>Image generation was requested but the feature is currently disabled by the administrator, so "
            "no image was created. Let the user know that image generation is currently unavailable.</context>")
FAILED = ("<context>Image generation was attempted but failed because of an error. The system is currently unable to "
          "generate the image. Tell the user that the following error occurred: {error}</context>")


def _with_context(messages: list[dict], context: str) -> list[dict]:
    """The conversation with ``context`` added to its system message (a new one first when it has none)."""
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        return [{**messages[0], "content": f"{messages[0]['content']}\n{context}"}, *messages[1:]]
    return [{"role": "system", "content": context}, *messages]


def make_image(reply: ChatReply, messages: list[dict]) -> list[dict]:
    """Make the image of the last user message for ``reply``; the conversation the model then answers."""
    kept = reply.kept_files()
    if kept:  # made by an earlier attempt of this job, which failed after it
        reply.attach(kept)
        return _with_context(messages, CREATED)
    prompt = next((reply_tasks.message_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    request = images.chat_request(reply.owner_id, prompt)
    if request is None:
        reply.show_status("Image generation is disabled", True)
        return _with_context(messages, DISABLED)
    reply.show_status("Creating image", False)
    try:
        made = images.make(request, editing=False, timeout=connections.answer_timeout())
    except ServiceError as error:
        reply.show_status("An error occurred while generating an image", True)
        return _with_context(messages, FAILED.format(error=error.detail))
    reply.show_status("Image created", True)
    reply.attach([{"type": "image", **image} for image in made])
    return _with_context(messages, CREATED)
