"""pgvector by SQL on the admin's PostgreSQL (the connection's endpoint is its DSN): the rows of the source's
collection nearest to the query by cosine distance (``<=>``), in the table and columns the source names, as
Open WebUI's ``_retrieve_pgvector`` reads them. Names are checked identifiers, never spliced text."""
from __future__ import annotations

import re

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from shared.errors import BadRequest, UpstreamError
from shared.providers.external_knowledge import Provider, collection, normalize, timeout

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _identifier(value: str, label: str) -> sql.Identifier:
    if not value or not IDENTIFIER.match(value):
        raise BadRequest(f"Invalid {label}: {value!r}.")
    return sql.Identifier(value)


def _connect(connection: dict) -> psycopg.Connection:
    try:
        return psycopg.connect(connection["endpoint"], row_factory=dict_row,
                               connect_timeout=max(1, int(timeout(connection))))
    except psycopg.Error as error:
        raise UpstreamError(f"pgvector: cannot connect: {str(error).strip().splitlines()[0]}", 502,
                            transient=True) from error


def ping(connection: dict) -> None:
    with _connect(connection) as conn:
        conn.execute("SELECT 1")


def search(connection: dict, source: dict, vector: list[float], count: int) -> list[dict]:
    config = source.get("config") or {}
    table = sql.SQL(".").join(_identifier(part, "table name")
                              for part in (config.get("table_name") or "document_chunk").split("."))
    metadata = config.get("metadata_field") or "vmetadata"
    query = sql.SQL("SELECT {id} AS id, {content} AS content, {metadata} AS metadata, "
                    "{vector} <=> %s::vector AS distance FROM {table} WHERE {collection} = %s "
                    "ORDER BY distance ASC LIMIT %s").format(
        id=_identifier(config.get("document_id_field") or "id", "document id field"),
        content=_identifier(config.get("content_field") or "text", "content field"),
        metadata=_identifier(metadata, "metadata field"),
        vector=_identifier(config.get("vector_field") or "vector", "vector field"), table=table,
        collection=_identifier(config.get("collection_field") or "collection_name", "collection field"))
    literal = "[" + ",".join(repr(float(v)) for v in vector) + "]"
    with _connect(connection) as conn:
        try:
            rows = conn.execute(query, (literal, collection(source), count)).fetchall()
        except psycopg.Error as error:
            raise UpstreamError(f"pgvector: {str(error).strip().splitlines()[0]}", 502) from error
    mapping = {"content_field": "content", "metadata_field": "metadata", "document_id_field": "id",
               "score_field": "distance"}
    return [normalize(row, mapping, row.get("distance")) for row in rows]


PROVIDER = Provider(ping=ping, search=search)
