"""Where a string is stored: every text and JSON value of every row of every table the database has (read
back from the database itself, not from the models), as written or as JSON escapes it."""

from __future__ import annotations

import json

from sqlalchemy import Engine, MetaData, select


def copies(engine: Engine, needle: str) -> list[str]:
    """`table.column` for each value holding `needle` (case-sensitively), once per row."""
    escaped = json.dumps(needle)[1:-1]
    tables = MetaData()
    tables.reflect(bind=engine)
    found = []
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, (bytes, bytearray)):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, (dict, list)):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and (needle in value or escaped in value):
                        found.append(f"{table.name}.{column}")
    return found
