"""Avatars the web app loads with ``<img>`` (cookie auth): users' pictures and the model icon."""
from __future__ import annotations

from flask import Response, redirect

from shared.services import profile_images
from web.blueprint import Blueprint
from web.caller import user_required
from web.db import db

blp = Blueprint("profile_images", __name__, description="Profile images")


def _answer(image: profile_images.ProfileImage) -> Response:
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
    return _answer(profile_images.user_image(db(), user_id))


@blp.route("/api/v1/models/model/profile/image", methods=["GET"])
@user_required
def model_profile_image():
    """Models have no stored pictures yet: the default icon."""
    return _answer(profile_images.ProfileImage(location=profile_images.DEFAULT_MODEL_IMAGE))
