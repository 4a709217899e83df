"""Feedback rows: the idempotent bulk insert behind the API and the CSV import."""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from storage.models import Feedback, UTCDateTime, sqlite_datetime
from storage.upsert import insert_ignoring

_T = Feedback.__table__
_COLUMNS = [c for c in _T.columns if c.name != "id"]
# The statement SQLAlchemy would send, compiled once from the table so the two cannot drift apart.
_SQLITE_INSERT = str(
    sqlite.insert(_T)
    .values({c.name: None for c in _COLUMNS})
    .on_conflict_do_nothing(index_elements=["source", "external_id"])
    .compile(dialect=sqlite.dialect())
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


_VALUES = itemgetter(*(c.name for c in _COLUMNS))
# (position, what the column type's bind processor does on SQLite) for the columns that need it.
_CONVERT = [
    (i, sqlite_datetime if isinstance(c.type, UTCDateTime) else _json)
    for i, c in enumerate(_COLUMNS)
    if isinstance(c.type, UTCDateTime | JSON)
]


def _sqlite_params(rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # Remember the last value converted per column: a batch shares one received_at object, so
    # it is formatted once rather than once per row.
    last_in: list[Any] = [None] * len(_CONVERT)
    last_out: list[Any] = [None] * len(_CONVERT)
    params = []
    for row in rows:
        values = list(_VALUES(row))
        for j, (i, convert) in enumerate(_CONVERT):
            value = values[i]
            if value is not last_in[j]:
                last_in[j], last_out[j] = value, convert(value)
            values[i] = last_out[j]
        params.append(tuple(values))
    return params


def insert_new(s: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """Insert the rows whose (source, external_id) is not stored yet; return (id, source, external_id)
    of each row inserted, in insertion order."""
    if not rows:
        return []
    if s.get_bind().dialect.name != "sqlite":
        # PostgreSQL: RETURNING is fast there and exact under concurrent writers.
        stmt = insert_ignoring(s, _T, ["source", "external_id"]).returning(
            _T.c.id, _T.c.source, _T.c.external_id
        )
        return [tuple(r) for r in s.execute(stmt, list(rows))]
    # SQLite: the transaction holds the write lock from BEGIN IMMEDIATE, so every rowid above the
    # current maximum is a row this statement inserted (a skipped duplicate gets none). That avoids
    # RETURNING, which SQLAlchemy sends as one huge multi-VALUES statement, and lets the driver's
    # executemany take ready tuples: per-row parameter processing was half the cost of an import.
    last = s.scalar(select(func.max(_T.c.id))) or 0
    s.connection().exec_driver_sql(_SQLITE_INSERT, _sqlite_params(rows))
    return [
        tuple(r)
        for r in s.execute(
            select(_T.c.id, _T.c.source, _T.c.external_id).where(_T.c.id > last).order_by(_T.c.id)
        )
    ]
