"""Account rules below the HTTP layer: argon2 re-hashing, token lifetimes, the first-admin claim."""
from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher

from shared.db import session_scope
from shared.errors import BadRequest
from shared.models import Credential
from shared.services import accounts, sessions


def test_outdated_hash_is_upgraded_on_signin():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with session_scope() as session:
        user = accounts.signup(session, name="A", email="a@example.com", password="pw-old")
        session.get(Credential, user.id).password = weak.hash("pw-old")
    with session_scope() as session:
        accounts.authenticate(session, "a@example.com", "pw-old")
    with session_scope() as session:
        stored = session.get(Credential, user.id).password
        assert not PasswordHasher().check_needs_rehash(stored)
        assert PasswordHasher().verify(stored, "pw-old")


@pytest.mark.parametrize("text, seconds", [("4w", 2419200), ("1h", 3600), ("30m", 1800), ("1.5d", 129600), ("500ms", 0.5)])
def test_parse_expires_in(text, seconds):
    assert sessions.parse_expires_in(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["-1", "0"])
def test_parse_expires_in_never(text):
    assert sessions.parse_expires_in(text) is None


def test_parse_expires_in_rejects_garbage():
    with pytest.raises(BadRequest):
        sessions.parse_expires_in("tomorrow")


def test_first_admin_claim_survives_deleting_users():
    with session_scope() as session:
        first = accounts.signup(session, name="A", email="a@example.com", password="pw")
        assert first.role == "admin"
    with session_scope() as session:
        assert accounts.signup(session, name="B", email="b@example.com", password="pw").role == "pending"
