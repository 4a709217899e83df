"""INSERT … ON CONFLICT DO NOTHING for the running backend (SQLite and PostgreSQL spell it alike)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring(s: Session, table: Table, conflict_columns: list[str]):  # noqa: ANN201
    dialect = s.get_bind().dialect.name
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        raise RuntimeError(f"unsupported database backend {dialect!r} (use SQLite or PostgreSQL)")
    return module.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
