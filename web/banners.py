"""``/api/v1/configs/banners``: the banners shown at the top of the web app."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.services import banners
from web.blueprint import Blueprint
from web.caller import admin_required, user_required
from web.db import db
from web.schemas import Body

blp = Blueprint("banners", __name__, url_prefix="/api/v1/configs", description="Banners")


class BannerSchema(Schema):
    """Open WebUI's ``BannerModel``."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    title = fields.String(allow_none=True, load_default=None)
    content = fields.String(required=True)
    dismissible = fields.Boolean(required=True)
    timestamp = fields.Integer(required=True)
    i18n = fields.Dict(keys=fields.String(), values=fields.Dict(), allow_none=True, load_default=None)


class BannersBody(Body):
    banners = fields.List(fields.Nested(BannerSchema), required=True, validate=validate.Length(max=100))


@blp.route("/banners", methods=["GET"])
@user_required
@blp.response(200, BannerSchema(many=True))
def get_banners():
    return banners.get_banners(db())


@blp.route("/banners", methods=["POST"])
@admin_required
@blp.arguments(BannersBody)
@blp.response(200, BannerSchema(many=True))
def set_banners(body):
    return banners.set_banners(db(), body["banners"])
