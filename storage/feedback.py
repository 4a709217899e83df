"""Feedback rows: the idempotent bulk insert behind the API and the CSV import; re-sent rows' updates."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, bindparam, select, update
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
_SQLITE_INSERT_ONE = f"{_SQLITE_INSERT} RETURNING id, source, external_id"
_SQLITE_LAST = "SELECT max(id) FROM feedback"
_SQLITE_INSERTED = "SELECT id, source, external_id FROM feedback WHERE id > ? ORDER BY id"


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
    conn = s.connection()
    if len(rows) == 1:
        # One response per request (a webhook): RETURNING says what was inserted in one statement.
        return [tuple(r) for r in conn.exec_driver_sql(_SQLITE_INSERT_ONE, _sqlite_params(rows)[0])]
    # SQLite: the transaction holds the write lock from BEGIN IMMEDIATE, so every rowid above the
    # current maximum is a row this statement inserted (a skipped duplicate gets none). That avoids
    # RETURNING, which SQLAlchemy sends as one huge multi-VALUES statement, and lets the driver's
    # executemany take ready tuples: per-row parameter processing was half the cost of an import.
    last = conn.exec_driver_sql(_SQLITE_LAST).scalar() or 0
    conn.exec_driver_sql(_SQLITE_INSERT, _sqlite_params(rows))
    return [tuple(r) for r in conn.exec_driver_sql(_SQLITE_INSERTED, (last,))]


# What an update may change (SPEC §10's fields, and the category that follows the comment); which team,
# which metric and when stay as first stored.
UPDATABLE = ("comment", "category", "score", "tags", "attributes", "customer", "segment")
_STORED_COLUMNS = ("id", "source", "external_id", "team", "metric", "submitted_at", *UPDATABLE)
_STORED = (
    select(*(_T.c[name] for name in _STORED_COLUMNS))
    .where(
        _T.c.source == bindparam("source"), _T.c.external_id.in_(bindparam("ids", expanding=True))
    )
    .order_by(_T.c.id)
    # PostgreSQL: two units of work re-sending one response take turns, and the second compares with
    # what the first wrote. SQLite renders no FOR UPDATE: its writer holds the database already.
    .with_for_update()
)
# Bound parameters per statement, far below SQLite's limit (32,766) and PostgreSQL's (65,535).
_CHUNK = 1_000
_UPDATE = (
    update(_T)
    .where(_T.c.id == bindparam("row_id"))
    .values({name: bindparam(f"new_{name}") for name in UPDATABLE})
)
_SQLITE_UPDATE = _UPDATE.compile(dialect=sqlite.dialect())
_SQLITE_UPDATE_SQL = str(_SQLITE_UPDATE)
# The new values in the positional statement's order (its row_id comes last), and where the JSON ones are.
_SQLITE_SET = [name.removeprefix("new_") for name in (_SQLITE_UPDATE.positiontup or ())][:-1]
if (_SQLITE_UPDATE.positiontup or [""])[-1] != "row_id" or len(_SQLITE_SET) != len(UPDATABLE):
    raise RuntimeError(f"unexpected parameter order in {_SQLITE_UPDATE_SQL}")
_SQLITE_VALUES = itemgetter(*_SQLITE_SET)
_SQLITE_JSON = (_SQLITE_SET.index("tags"), _SQLITE_SET.index("attributes"))
_SQLITE_SELECT = (
    f"SELECT {', '.join(_STORED_COLUMNS)} FROM feedback WHERE source = ? AND external_id IN ({{}}) "
    "ORDER BY id"
)
_SUBMITTED_AT = _STORED_COLUMNS.index("submitted_at")
_STORED_JSON = (_STORED_COLUMNS.index("tags"), _STORED_COLUMNS.index("attributes"))


def stored_rows(
    s: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of these (source, external_id) keys, locked to the end of the transaction; a key
    not stored (purged by retention meanwhile) is absent."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, external_id in keys:
        by_source[source].append(external_id)
    sqlite_ = s.get_bind().dialect.name == "sqlite"
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for source, ids in by_source.items():
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            if sqlite_:
                rows: Iterable[Sequence[Any]] = _sqlite_select(s, source, chunk)
            else:
                rows = s.execute(_STORED, {"source": source, "ids": chunk})
            for row in rows:
                found[(row[1], row[2])] = dict(zip(_STORED_COLUMNS, row))
    return found


def _sqlite_select(s: Session, source: str, ids: list[str]) -> list[list[Any]]:
    # The driver's rows, converted here as the column types would: SQLAlchemy's result processing was a
    # third of reading them.
    sql = _SQLITE_SELECT.format(", ".join("?" * len(ids)))
    rows = [list(r) for r in s.connection().exec_driver_sql(sql, (source, *ids)).fetchall()]
    for row in rows:
        # Stored as UTCDateTime writes it on SQLite: UTC, without an offset.
        row[_SUBMITTED_AT] = datetime.fromisoformat(row[_SUBMITTED_AT]).replace(tzinfo=UTC)
        for i in _STORED_JSON:
            if row[i] is not None:
                row[i] = json.loads(row[i])
    return rows


def update_rows(s: Session, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Write new values (a dict of UPDATABLE's names) over stored rows: (row id, values) each."""
    if not updates:
        return
    if s.get_bind().dialect.name != "sqlite":
        s.execute(
            _UPDATE,
            [
                {"row_id": row_id, **{f"new_{n}": values[n] for n in UPDATABLE}}
                for row_id, values in updates
            ],
        )
        return
    # SQLite: ready tuples for the driver's executemany, as insert_new does (SQLAlchemy's per-row
    # parameter processing was a third of an update's cost).
    params = []
    for row_id, values in updates:
        new = [*_SQLITE_VALUES(values), row_id]
        for i in _SQLITE_JSON:
            new[i] = _json(new[i])
        params.append(tuple(new))
    s.connection().exec_driver_sql(_SQLITE_UPDATE_SQL, params)
