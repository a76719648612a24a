"""``/api/v1/notes``: notes with access grants, per-reader pins and the hidden chats of the note editor."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import jsonify
from marshmallow import fields

from shared.models import Note, User
from shared.services import access, notes
from web.blueprint import Blueprint
from web.caller import current_user, user_required
from web.chats import chat_response
from web.db import db
from web.schemas import Body, GrantSchema, owner_json

blp = Blueprint("notes", __name__, url_prefix="/api/v1/notes", description="Notes")


class NoteForm(Body):
    title = fields.String(required=True)
    data = fields.Dict(load_default=None, allow_none=True)
    meta = fields.Dict(load_default=None, allow_none=True)
    access_grants = fields.List(fields.Nested(GrantSchema), load_default=None, allow_none=True)


class NoteUpdateForm(Body):
    title = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(load_default=None, allow_none=True)
    meta = fields.Dict(load_default=None, allow_none=True)


class NoteAccessGrantsForm(Body):
    access_grants = fields.List(fields.Nested(GrantSchema), required=True)


class PageQuery(Body):
    page = fields.Integer(load_default=None, allow_none=True)


class NoteSearchQuery(Body):
    query = fields.String(load_default=None)
    view_option = fields.String(load_default=None)
    permission = fields.String(load_default=None)
    order_by = fields.String(load_default=None)
    direction = fields.String(load_default=None)
    page = fields.Integer(load_default=1)


def notes_area(view: Callable) -> Callable:
    """Signed in, notes switched on and ``features.notes`` granted."""
    @user_required
    @wraps(view)
    def checked(*args, **kwargs):
        notes.check_enabled(db(), current_user())
        return view(*args, **kwargs)
    return checked


def note_json(note: Note, pinned: set[str]) -> dict:
    """Open WebUI's ``NoteModel``."""
    return {"id": note.id, "user_id": note.user_id, "title": note.title, "data": notes.sanitize(note.data) or {},
            "meta": note.meta, "is_pinned": note.id in pinned, "access_grants": note.access_grants,
            "created_at": note.created_at, "updated_at": note.updated_at}


def _listed(rows: list[tuple[Note, User | None]]) -> list[dict]:
    """List entries: the note with its owner and only the start of its text."""
    pinned = notes.pinned_ids(db(), current_user())
    return [{**note_json(note, pinned), "data": notes.preview(note.data), "user": owner_json(owner)}
            for note, owner in rows]


def _answer(note: Note) -> tuple:
    return jsonify(note_json(note, notes.pinned_ids(db(), current_user())))


@blp.route("/", methods=["GET"])
@notes_area
@blp.arguments(PageQuery, location="query")
def list_notes(args: dict):
    """The notes the caller may read, last changed first (60 a page with ``page``)."""
    return jsonify(_listed(notes.readable_notes(db(), current_user(), args["page"])))


@blp.route("/pinned", methods=["GET"])
@notes_area
def pinned():
    return jsonify(_listed(notes.pinned_notes(db(), current_user())))


@blp.route("/search", methods=["GET"])
@notes_area
@blp.arguments(NoteSearchQuery, location="query")
def search(args: dict):
    """``{items, total}``: every word in the title or text; ``view_option`` created|shared."""
    rows, total = notes.search(db(), current_user(), **args)
    return jsonify(items=_listed(rows), total=total)


@blp.route("/create", methods=["POST"])
@notes_area
@blp.arguments(NoteForm)
def create(body: dict):
    return _answer(notes.create(db(), current_user(), body))


@blp.route("/<note_id>", methods=["GET"])
@notes_area
def get_note(note_id: str):
    """The note and whether the caller may change it."""
    note = notes.readable(db(), current_user(), note_id)
    return jsonify({**note_json(note, notes.pinned_ids(db(), current_user())),
                    "write_access": access.can_access(note, current_user(), "write")})


@blp.route("/<note_id>/chat", methods=["GET"])
@notes_area
def note_chat(note_id: str):
    """The caller's latest chat beside the note (made on first use); no chat list shows it."""
    return jsonify(chat_response(notes.chat(db(), current_user(), note_id)))


@blp.route("/<note_id>/chat", methods=["POST"])
@notes_area
def new_note_chat(note_id: str):
    return jsonify(chat_response(notes.new_chat(db(), current_user(), note_id)))


@blp.route("/<note_id>/chats", methods=["GET"])
@notes_area
def note_chats(note_id: str):
    return jsonify([chat_response(chat) for chat in notes.chats(db(), current_user(), note_id)])


@blp.route("/<note_id>/update", methods=["POST"])
@notes_area
@blp.arguments(NoteUpdateForm)
def update(body: dict, note_id: str):
    """Change the title; ``data`` and ``meta`` are merged over the note's."""
    return _answer(notes.update(db(), current_user(), note_id, body))


@blp.route("/<note_id>/access/update", methods=["POST"])
@notes_area
@blp.arguments(NoteAccessGrantsForm)
def update_access(body: dict, note_id: str):
    return _answer(notes.set_access(db(), current_user(), note_id, body["access_grants"]))


@blp.route("/<note_id>/pin", methods=["POST"])
@notes_area
def pin(note_id: str):
    """Pin or unpin the note for the caller."""
    return _answer(notes.toggle_pin(db(), current_user(), note_id))


@blp.route("/<note_id>/delete", methods=["DELETE"])
@notes_area
def delete(note_id: str):
    notes.delete_note(db(), current_user(), note_id)
    return jsonify(True)
