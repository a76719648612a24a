"""One SQLAlchemy session per request: committed when the response succeeds, rolled back otherwise."""
from __future__ import annotations

from flask import Flask, Response, g
from sqlalchemy.orm import Session

from shared.db import get_sessionmaker
from web.errors import REFUSED_BY_DATABASE, refused_by_database


def db() -> Session:
    if "db" not in g:
        g.db = get_sessionmaker()()
    return g.db


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            except REFUSED_BY_DATABASE as error:  # a value first written at the commit
                session.rollback()
                return refused_by_database(error)
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()
