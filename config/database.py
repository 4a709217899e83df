"""Whether DATABASE_URL names a database Loopbot can use, checked before anything else touches it."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from config.fields import clip

# How long `database_problem` waits for the server: long enough for a database across a WAN, short
# enough that a firewall dropping packets is an error line in seconds, not a two-minute hang.
CONNECT_TIMEOUT_S = 5
_EXAMPLE = "sqlite:///loopbot.db or postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"


def database_problem(url: str) -> str | None:
    """What stops Loopbot using the database at `url`, in one line that never holds its password, or None.

    The URL is parsed, its driver imported, and the database connected to (at most CONNECT_TIMEOUT_S
    with PostgreSQL); a SQLite file that does not exist yet only needs a folder to be created in.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"is not a database URL; write it as {_EXAMPLE}"
    except ValueError:  # SQLAlchemy reads the port with int()
        _, at, host = url.partition("://")[2].partition("/")[0].rpartition("@")
        # Only what follows an @ is surely not a password: postgresql://user:secret/db has no @.
        port = f' "{clip(host.rpartition(":")[2], 20)}"' if at else ""
        return f"the port{port} is not a number"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"the port {parsed.port} is not between 1 and 65535"
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        return f'"{clip(parsed.drivername, 40)}" is not a database SQLAlchemy knows; use {_EXAMPLE}'
    except ImportError:
        return (
            f"the driver {parsed.get_driver_name()} is not installed: install it, or use "
            "postgresql+psycopg://..., whose driver comes with Loopbot"
        )
    shown, file = _masked(parsed), Path(parsed.database or "")
    if (
        dialect.name == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not (file.exists() or parsed.database.startswith("file:"))
    ):  # `loopbot run` creates it: connecting now would create an empty file
        problem = _new_file_problem(file.parent)
        return f"{shown}: {problem}" if problem else None
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if dialect.driver in _LIBPQ else {}
    try:
        engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                # SELECT 1 answers even from a file that is not a SQLite database; its header does not.
                conn.execute(
                    text("PRAGMA schema_version" if dialect.name == "sqlite" else "SELECT 1")
                )
        finally:
            engine.dispose()
    except Exception as exc:  # whatever fails here, Loopbot cannot start: say why
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        if parsed.password:
            reason = reason.replace(str(parsed.password), "***")
        return f"{shown}: cannot connect: {clip(reason, 200)}"
    return None


_LIBPQ = ("psycopg", "psycopg2")  # they take libpq's connect_timeout


def _new_file_problem(folder: Path) -> str | None:
    shown = clip(str(folder), 150)
    if not folder.is_dir():
        return f"the folder {shown} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {shown} is not writable, so the database file cannot be created there"
    return None


def _masked(url: URL) -> str:
    """The URL as errors show it: the password, also one given as a query parameter, as ***."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    query = [
        f"{k}={'***' if k.lower() == 'password' else v if isinstance(v, str) else ','.join(v)}"
        for k, v in url.query.items()
    ]
    return clip(shown + ("?" + "&".join(query) if query else ""), 150)
