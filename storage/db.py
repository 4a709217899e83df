"""Engine and session factory from a URL: SQLite (embedded) or PostgreSQL."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 30_000
READ_ONLY = "loopbot_read_only"


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and IMMEDIATE transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # pre_ping: a PostgreSQL restart must not turn the next request into a 500.
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Hand transaction control to SQLAlchemy (pysqlite's own BEGIN handling is deferred and
        # would let two writers both read, then one fail to upgrade its lock with "database is locked").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        # Durable at every checkpoint and safe against application crashes; only an OS crash can
        # lose the last commits, which WAL mode makes an acceptable trade for 2-3x write speed.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # IMMEDIATE takes the write lock up front, so concurrent units of work queue on
        # busy_timeout instead of failing half-way; it is what makes conditional UPDATEs race-free.
        # Read-only units (make_read_sessions) take no lock: in WAL mode they read a snapshot beside
        # the writer instead of queueing behind it in the busy handler's 100 ms sleeps.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: results of a unit of work stay readable after `with s.begin()`.
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that only read (lists, renders, checks); never write through them."""
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Raise sqlalchemy.exc.OperationalError (or DBAPIError) when the database is unreachable."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
