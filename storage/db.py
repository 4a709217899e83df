"""Engine and session factory from a URL: SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

import select
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from config.database import CONNECT_TIMEOUT_S
from storage.timeouts import RequestPool, bound_requests, request_wait

# How long jobs and the CLI wait for SQLite's write lock; a web request waits its own bound at most.
SQLITE_BUSY_MS = 30_000
POOL_TIMEOUT_S = 10
_LIBPQ_DEFAULTS = {
    # A connection that is not made in 5 s (config.database's start-up check waits as long) is an error
    # a job retries, not a hang; requests connect within their own bound (storage.timeouts).
    "connect_timeout": CONNECT_TIMEOUT_S,
    # A vanished host or a cut network (no FIN, no RST): noticed in about a minute on an idle pooled
    # connection (keepalives), and within 30 s of unacknowledged data on a busy one (tcp_user_timeout),
    # instead of the kernel's ~15 minutes of retransmissions. A frozen server is not noticed this way (its
    # kernel answers for it): that takes the request watchdog.
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
READ_ONLY = "loopbot_read_only"
_HELD = "loopbot_writer_lock_held"
_BUSY_MS = "loopbot_busy_timeout_ms"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and IMMEDIATE transactions. Inside
    storage.timeouts.request_scope() every wait is bounded (see there); outside, jobs wait as long as
    their work takes, up to POOL_TIMEOUT_S for a free connection."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if not (sqlite and parsed.database in (None, "", ":memory:")):  # in memory: one connection
        # A request waits for a free connection no longer than its own bound (RequestPool); the rest
        # waits POOL_TIMEOUT_S: past that the connections are held by something stuck, and a job tries
        # again at its next run.
        kwargs = {"poolclass": RequestPool, "pool_timeout": POOL_TIMEOUT_S, **kwargs}
    if sqlite:
        # SQLite connections are cheap, and a writer queued for the write lock holds one: a small pool
        # (the default is 5 + 10) would leave readers waiting for a connection behind queued writers.
        kwargs = {"pool_size": 32, "max_overflow": 32, **kwargs}
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # Up to 30 connections: Slack requests and ingestion in the server's thread pool, the outbox workers and the
    # jobs may all hold one.
    kwargs = {"pool_size": 10, "max_overflow": 20, **kwargs}
    if parsed.get_driver_name() != "psycopg":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    # These defaults, unless the URL or the caller's connect_args say otherwise.
    given = {**kwargs.pop("connect_args", {})}
    connect_args = {k: v for k, v in _LIBPQ_DEFAULTS.items() if k not in parsed.query} | given
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)
    event.listen(engine, "checkout", _closed_by_the_server)
    bound_requests(engine)
    return engine


def _closed_by_the_server(dbapi_conn, _record, _proxy) -> None:  # noqa: ANN001
    """A PostgreSQL restart must not turn the next request into a 500: a pooled connection the server has closed
    is replaced at checkout (the pool connects anew on DisconnectionError). An idle connection has nothing to read
    unless the server said goodbye (a FATAL message, then EOF), so a poll of its socket tells without the round
    trip of pool_pre_ping's SELECT 1, a visible share of a list's time under load (bench/RESULTS.md)."""
    pgconn = dbapi_conn.pgconn
    if pgconn.status != 0:  # psycopg.pq.ConnStatus.OK
        raise DisconnectionError("this pooled PostgreSQL connection is broken")
    readable = (
        select.poll()
    )  # poll, not select: a busy server's descriptors may be past select's 1024
    readable.register(pgconn.socket, select.POLLIN)
    if readable.poll(0):
        raise DisconnectionError("PostgreSQL closed this pooled connection")


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
        # A web request waits for the write lock no longer than its bound (storage.timeouts), then answers 503
        # or "try again"; jobs and the CLI wait the full busy timeout, as a long import may hold the lock.
        wait_s = request_wait()
        limit_s = SQLITE_BUSY_MS / 1000 if wait_s is None else wait_s
        deadline = time.monotonic() + limit_s
        # IMMEDIATE takes the write lock up front, so concurrent units of work queue on
        # busy_timeout instead of failing half-way; it is what makes conditional UPDATEs race-free.
        # Read-only units (make_read_sessions) take no lock: in WAL mode they read a snapshot beside
        # the writer instead of queueing behind it in the busy handler's 100 ms sleeps.
        if conn.get_execution_options().get(READ_ONLY, False):
            _busy_timeout(conn, wait_s, deadline)
            conn.exec_driver_sql("BEGIN DEFERRED")
            return
        # This process's writers queue here first: a release wakes the next one at once, where SQLite's busy
        # handler would have it poll in sleeps of up to 100 ms. Correctness never rests on this lock (SQLite's
        # own lock does that); it is held until the connection is returned. A wait past the busy timeout goes
        # on without it rather than ever deadlocking on it. Other processes (a CLI import) queue on SQLite's.
        if writers.acquire(timeout=limit_s):
            conn.info[_HELD] = conn.info.get(_HELD, 0) + 1
        try:
            _busy_timeout(conn, wait_s, deadline)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_all(conn.info)
            raise

    def _busy_timeout(conn, wait_s: float | None, deadline: float) -> None:  # noqa: ANN001
        # The busy timeout is the connection's, and a pooled connection serves requests and jobs in turn: a
        # request's is what is left of its wait (in 100 ms steps, so that it rarely changes), with none left
        # BEGIN fails at once; a job's is SQLITE_BUSY_MS.
        left_ms = int(max(0.0, deadline - time.monotonic()) * 10) * 100
        busy_ms = SQLITE_BUSY_MS if wait_s is None else left_ms
        if conn.info.get(_BUSY_MS, SQLITE_BUSY_MS) != busy_ms:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
            conn.info[_BUSY_MS] = busy_ms

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):  # noqa: ANN001
        _release_all(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_conn, record, _exc):  # noqa: ANN001
        _release_all(record.info)

    def _release_all(info: dict) -> None:
        for _ in range(info.pop(_HELD, 0)):
            writers.release()

    writers = threading.Lock()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: results of a unit of work stay readable after `with s.begin()`.
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that only read (lists, renders, checks); never write through them.

    On PostgreSQL they run in autocommit: at its READ COMMITTED level each statement reads its own snapshot
    anyway, so a transaction around reads would only add the BEGIN and COMMIT round trips (what that costs under
    load: bench/RESULTS.md). On SQLite a read unit is one snapshot.
    """
    options: dict[str, object] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Raise sqlalchemy.exc.OperationalError (or DBAPIError) when the database is unreachable."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
