"""Avatars the web app loads with ``<img>`` (cookie auth): how a picture is answered, and users' pictures
(models' are in ``web/models.py``)."""
from __future__ import annotations

from flask import Response, redirect

from shared.services import profile_images
from web.blueprint import Blueprint
from web.caller import user_required
from web.db import db

blp = Blueprint("profile_images", __name__, description="Profile images")


def answer(image: profile_images.ProfileImage) -> Response:
    if image.location is not None:
        return redirect(image.location, code=302)
    response = Response(image.data, mimetype=image.media_type)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@blp.route("/api/v1/users/<user_id>/profile/image", methods=["GET"])
@user_required
def user_profile_image(user_id: str):
    """The user's uploaded picture, else the default avatar (redirect)."""
    return answer(profile_images.user_image(db(), user_id))
