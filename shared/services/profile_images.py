"""Which pictures a user may set (Open WebUI's ``validate_image_url``), and which one to show: their
uploaded ``data:`` image, else a known static picture. The answer never redirects to a stored path: a
value such as ``/api/v1/auths/signout`` would make every viewer's browser call it."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy.orm import Session

from shared import messages
from shared.config import get_settings
from shared.errors import BadRequest, NotFound
from shared.models import User, WorkspaceModel
from shared.services import access

ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DEFAULT_USER_IMAGE = "/static/user.png"
DEFAULT_MODEL_IMAGE = "/static/favicon.png"
STATIC_IMAGES = {"/user.png": DEFAULT_USER_IMAGE, "/favicon.png": DEFAULT_MODEL_IMAGE,
                 "/static/favicon.png": DEFAULT_MODEL_IMAGE}
"""The relative paths Open WebUI itself assigns (exact matches only), and the file each one shows."""
_PROFILE_ROUTE = re.compile(r"^/api/v1/users/[^/?#]+/profile/image$")
_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)
INVALID_URL = ("Invalid profile image URL: must be a known internal path, an HTTP(S) URL with a host, "
               "or a data:image URI (png/jpeg/gif/webp).")


def checked_url(url: str | None) -> str | None:
    """``url`` when a user may set it as a picture, else BadRequest (Open WebUI's rules, and a size limit
    on ``data:`` images)."""
    if url is None or url == "" or url in STATIC_IMAGES or _PROFILE_ROUTE.match(url):
        return url
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        if not parsed.hostname:
            raise BadRequest("Invalid profile image URL: HTTP(S) URLs must include a host.")
        return url
    if _DATA_URL.match(url):
        limit = get_settings().profile_image_max_data_uri_size
        if len(url) > limit:
            raise BadRequest(f"Invalid profile image URL: data URI exceeds the {limit}-byte limit.")
        return url
    raise BadRequest(INVALID_URL)


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
    return shown(user.profile_image_url, DEFAULT_USER_IMAGE)


def shown(url: str | None, default: str) -> ProfileImage:
    """A stored picture as answered: a ``data:`` image inline, a known static picture, else ``default``."""
    url = url or ""
    if url.startswith("data:"):
        return decode_data_url(url) or ProfileImage(location=default)
    return ProfileImage(location=STATIC_IMAGES.get(url, default))


def model_image(session: Session, user: User, model_id: str) -> ProfileImage:
    """A custom model's picture when the user may see the model, else the default icon."""
    model = session.get(WorkspaceModel, model_id)
    if model is None or not access.can_access(model, user, "read"):
        return ProfileImage(location=DEFAULT_MODEL_IMAGE)
    return shown((model.meta or {}).get("profile_image_url"), DEFAULT_MODEL_IMAGE)
