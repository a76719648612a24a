"""Which picture to show for a user: their uploaded ``data:`` image, a link, or the default avatar."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared import messages
from shared.errors import NotFound
from shared.models import User

ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DEFAULT_USER_IMAGE = "/static/user.png"
DEFAULT_MODEL_IMAGE = "/static/favicon.png"


@dataclass(frozen=True)
class ProfileImage:
    """Either inline ``data`` of ``media_type``, or a ``location`` to redirect to."""

    data: bytes | None = None
    media_type: str | None = None
    location: str | None = None


def decode_data_url(url: str) -> ProfileImage | None:
    """A ``data:image/...;base64,`` URL as bytes, None when malformed or not an allowed image type."""
    header, sep, payload = url.partition(",")
    media_type = header[len("data:"):].split(";", 1)[0].lower()
    if not sep or media_type not in ALLOWED_TYPES or ";base64" not in header:
        return None
    try:
        return ProfileImage(data=base64.b64decode(payload, validate=True), media_type=media_type)
    except (binascii.Error, ValueError):
        return None


def user_image(session: Session, user_id: str) -> ProfileImage:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(messages.NOT_FOUND)
    url = user.profile_image_url or ""
    if url.startswith("data:"):
        return decode_data_url(url) or ProfileImage(location=DEFAULT_USER_IMAGE)
    if url.startswith("/") and not url.startswith("//"):
        return ProfileImage(location=url if url.startswith("/static/") else DEFAULT_USER_IMAGE)
    return ProfileImage(location=DEFAULT_USER_IMAGE)
