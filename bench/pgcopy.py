"""The latency benchmark's database in PostgreSQL: the cached SQLite file copied once into a template
database, from which each run gets a fresh copy (CREATE DATABASE … TEMPLATE, a file copy on the server)."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import migrate  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.models import Base  # noqa: E402


def _connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname=u.database or "postgres",
        autocommit=autocommit,
    )


def _admin(url: str) -> psycopg.Connection:
    return _connect(url, autocommit=True)  # CREATE and DROP DATABASE refuse to run in a transaction


def _url_of(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def template(sqlite_path: Path, url: str) -> tuple[str, float | None]:
    """The template database holding `sqlite_path`'s rows, built when missing; (name, seconds the build took)."""
    name = f"loopbot_latency_{sqlite_path.stem.rsplit('-', 1)[-1]}"
    with _admin(url) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return name, None
        started = time.perf_counter()
        partial = f"{name}_partial"
        admin.execute(f'DROP DATABASE IF EXISTS "{partial}"')
        admin.execute(f'CREATE DATABASE "{partial}"')
    engine = make_engine(_url_of(url, partial))
    migrate.upgrade(engine)  # the schema exactly as `loopbot run` would create it
    engine.dispose()
    _copy_rows(sqlite_path, _url_of(url, partial))
    with _admin(url) as admin:
        admin.execute(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
    return name, time.perf_counter() - started


def _copy_rows(sqlite_path: Path, url: str) -> None:
    src = sqlite3.connect(sqlite_path)
    with _connect(url) as dst:
        dst.execute("SET TIME ZONE 'UTC'")  # SQLite's datetimes are UTC text without an offset
        for table in Base.metadata.sorted_tables:  # parents before children, for the foreign keys
            columns = [c.name for c in table.columns]
            quoted = ", ".join(f'"{c}"' for c in columns)
            with dst.cursor().copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in src.execute(f'SELECT {quoted} FROM "{table.name}"'):
                    copy.write_row(row)
            if "id" in columns and table.c.id.autoincrement in (True, "auto"):
                dst.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table.name}"), 1))'
                )
    src.close()
    with _admin(url) as admin:
        # The visibility map too, as autovacuum keeps it on a live server: without it every count of
        # cases reads the table's pages instead of the index alone.
        admin.execute("VACUUM ANALYZE")


def server_version(url: str) -> str:
    with _admin(url) as admin:
        return "PostgreSQL " + admin.execute("SHOW server_version").fetchone()[0].split()[0]


def fresh_copy(url: str, template_name: str, name: str) -> str:
    """A new database `name` copied from the template; its SQLAlchemy URL."""
    with _admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    return _url_of(url, name)


def drop(url: str, name: str) -> None:
    with _admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
