"""Marshmallow schemas shared across API areas (Open WebUI's JSON shapes)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.json_limits import beyond_64_bits


class Body(Schema):
    """Request bodies ignore fields they do not know, as Open WebUI's pydantic forms do."""

    class Meta:
        unknown = EXCLUDE

    @validates_schema
    def _within_64_bits(self, data: dict, **_kwargs) -> None:
        """Query values are not JSON (which the input guard checks): a page or limit the database cannot hold."""
        for name, value in data.items():
            if beyond_64_bits(value):
                raise ValidationError("Number beyond 64 bits.", name)


def settings_body(names: Iterable[str], name: str, types: Mapping[str, fields.Field] | None = None) -> type[Body]:
    """A form of admin settings under their API names, every one optional (left out: unchanged): ``ENABLE_*``
    booleans, the others strings that may be null, unless ``types`` says otherwise."""
    def field(setting: str) -> fields.Field:
        if types and setting in types:
            return types[setting]
        return fields.Boolean() if setting.startswith("ENABLE_") else fields.String(allow_none=True)

    return Body.from_dict({setting: field(setting) for setting in names}, name=name)


class GrantSchema(Body):
    """One access grant of a shared object (knowledge, models, prompts ...)."""

    id = fields.String(load_default=None, allow_none=True)
    principal_type = fields.String(load_default="user", validate=validate.OneOf(["user", "group", "anyone"]))
    principal_id = fields.String(required=True)
    permission = fields.String(load_default="read", validate=validate.OneOf(["read", "write"]))


class LoadUrlForm(Body):
    """A URL to load code or skills from (http or https; the job that fetches it checks the address)."""

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)


def owner_json(user) -> dict | None:
    """The owner shown beside a shared object in lists."""
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
            "profile_image_url": user.profile_image_url}


class PassThrough(Schema):
    """Bodies kept as sent: the declared fields are checked, every other field is kept."""

    class Meta:
        unknown = INCLUDE


class UserSchema(Schema):
    """Open WebUI's ``UserModel``."""

    id = fields.String()
    email = fields.String()
    username = fields.String(allow_none=True)
    role = fields.String()
    name = fields.String()
    profile_image_url = fields.String(allow_none=True)
    bio = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    date_of_birth = fields.Date(allow_none=True)
    timezone = fields.String(allow_none=True)
    info = fields.Dict(allow_none=True)
    settings = fields.Dict(allow_none=True)
    last_active_at = fields.Integer()
    updated_at = fields.Integer()
    created_at = fields.Integer()


class UserInfoSchema(Schema):
    """Open WebUI's ``UserInfoResponse``: what other users may know of an account."""

    id = fields.String()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    bio = fields.String(allow_none=True)
    last_active_at = fields.Integer(allow_none=True)
    timezone = fields.String(allow_none=True)
    groups = fields.List(fields.Dict(), dump_default=[])
    is_active = fields.Boolean(dump_default=False)


class UserActiveSchema(UserSchema):
    """Open WebUI's ``UserActiveResponse``: the account, its groups and whether it is active."""

    groups = fields.List(fields.Dict(), dump_default=[])
    is_active = fields.Boolean(dump_default=False)


class UserInfoListSchema(Schema):
    users = fields.List(fields.Nested(UserInfoSchema))
    total = fields.Integer()


class UserWithGroupsSchema(UserSchema):
    group_ids = fields.List(fields.String(), dump_default=[])


class UserListSchema(Schema):
    users = fields.List(fields.Nested(UserWithGroupsSchema))
    total = fields.Integer()


class ProfileSchema(Schema):
    """Open WebUI's ``UserProfileImageResponse``."""

    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    profile_image_url = fields.String(allow_none=True)


class StatusSchema(Schema):
    status = fields.Boolean()
