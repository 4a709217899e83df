"""How long a web request waits for the database, and the engine hooks that keep it to that.

A web request (the API, the webhooks, /healthz, /metrics, a Slack request) must answer within about two
seconds whatever the database does, so that a client gets a 503 with Retry-After and a person in Slack a
"try again" in time (Slack gives up after 3 s). Scheduled jobs, the outbox workers and the CLI (a CSV
import) may wait as long as their work takes. So the short bound applies only inside `request_scope()`.

On PostgreSQL a frozen or vanished server is noticed on the client's side: a server-side statement_timeout
cannot fire while the server itself is stopped, and TCP keepalives are answered by its kernel all the same.
One watchdog thread shuts down the socket of a request's round trip that outlives REQUEST_WAIT_S, which
makes the blocked psycopg call fail at once; the transaction it was in is rolled back by PostgreSQL once it
runs again (a COMMIT already sent may still land: a retried ingestion is idempotent, a retried click finds
the change made). After one such failure, requests fail at once for PAUSE_S instead of each waiting its
1.5 s, then one tries again: under traffic the waits would otherwise queue up behind one another.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

log = logging.getLogger("loopbot.database")

# Each wait of a web request: for a pooled connection, a new connection, one round trip, the SQLite write
# lock. Short enough for a 503 or a "try again" within 2 s; long enough for any statement a request makes
# (milliseconds, bench/RESULTS.md), with room for a loaded server.
REQUEST_WAIT_S = 1.5
PAUSE_S = 1.0  # after a request found the database not answering: how long others fail at once

# What a request answers with 503 and Retry-After, or "try again" in Slack: the database unreachable, not
# answering in time, locked, or every pooled connection taken.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)

_wait: ContextVar[float | None] = ContextVar("loopbot_request_wait", default=None)


@contextmanager
def request_scope(seconds: float = REQUEST_WAIT_S) -> Iterator[None]:
    """Database work in here (this thread, and threads started with a copy of its context) waits at most
    `seconds` at each step, and fails rather than waits once the database was found not answering."""
    token = _wait.set(seconds)
    try:
        yield
    finally:
        _wait.reset(token)


def request_wait() -> float | None:
    """The current request's bound on each wait, or None outside a request (no bound of ours)."""
    return _wait.get()


class RequestPool(QueuePool):
    """QueuePool whose wait for a free connection is the request's bound inside request_scope()."""

    # Log as QueuePool does: under "sqlalchemy", which is quiet below WARNING.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.QueuePool"

    @property
    def _timeout(self) -> float:  # read by QueuePool._do_get
        wait = request_wait()
        return self._configured if wait is None else min(wait, self._configured)

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._configured = value


class Breaker:
    """Whether requests should try the database now: not for PAUSE_S after one found it not answering."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed_until = 0.0  # 0: closed, requests go through

    def admit(self, wait: float, error: type[Exception]) -> None:
        """Raise `error` at once while open; past the pause, let this one request through to try."""
        if not self._closed_until:
            return
        with self._lock:
            now = time.monotonic()
            if now < self._closed_until:
                raise error("the database is not answering (a request waited for it in vain)")
            # This request tries; the others keep failing at once until it has an answer.
            self._closed_until = now + wait + PAUSE_S

    def trip(self, why: str) -> None:
        with self._lock:
            if not self._closed_until:
                log.warning(
                    "database not answering (%s): web requests answer 503 or 'try again' at once, "
                    "one trying again every %g s",
                    why,
                    PAUSE_S,
                )
            self._closed_until = time.monotonic() + PAUSE_S

    def answered(self) -> None:
        if self._closed_until:
            with self._lock:
                if self._closed_until:
                    log.warning("database answering again")
                self._closed_until = 0.0


class Watchdog:
    """One thread for the process: shuts down the socket of a PostgreSQL connection whose round trip
    outlived its request's wait. Shutdown, not close: the file descriptor stays psycopg's."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, Any]] = {}  # id(dbapi connection) -> (deadline, it)
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None
        self._killed: set[int] = set()

    def arm(self, dbapi_conn: Any, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with self._cond:
            self._due[id(dbapi_conn)] = (deadline, dbapi_conn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loopbot-db-watchdog")
                self._thread.daemon = True
                self._thread.start()
            # The thread sleeps until the earliest deadline it knows: wake it only for an earlier one.
            if deadline < self._wake_at:
                self._cond.notify()

    def disarm(self, dbapi_conn: Any) -> bool:
        """Whether this watchdog shut it down since it was armed (said once: to the error it caused)."""
        with self._cond:
            self._due.pop(id(dbapi_conn), None)
            if id(dbapi_conn) in self._killed:
                self._killed.discard(id(dbapi_conn))
                return True
            return False

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (deadline, conn) in list(self._due.items()):
                    if deadline <= now:
                        del self._due[key]
                        self._killed.add(key)
                        _shut_down(conn)
                self._wake_at = min((d for d, _ in self._due.values()), default=float("inf"))
                self._cond.wait(None if self._due == {} else self._wake_at - now)


def _shut_down(dbapi_conn: Any) -> None:
    try:
        fd = dbapi_conn.pgconn.socket
        # A duplicate of the descriptor: shutdown acts on the connection behind both.
        with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: BLE001 - closed meanwhile: nothing left to wake
        return


def connect_within(seconds: float, connect: Callable[[], Any]) -> Any:
    """`connect()`, or TimeoutError after `seconds` (psycopg's own connect_timeout is 2 s at least). The
    attempt goes on in its thread until its own timeout, and closes what it gets if given up on."""
    done, lock, box = threading.Event(), threading.Lock(), {}

    def attempt() -> None:
        try:
            conn = connect()
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    conn.close()
                    return
                box["conn"] = conn
        done.set()

    threading.Thread(target=attempt, name="loopbot-db-connect", daemon=True).start()
    if not done.wait(seconds):
        with lock:
            if "conn" not in box and "error" not in box:
                box["abandoned"] = True
                raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["conn"]


_WATCHDOG = Watchdog()


def bound_requests(engine: Engine) -> None:
    """Keep a PostgreSQL (psycopg) engine's work inside request_scope() to the request's wait: each
    round trip (statements, COMMIT, ROLLBACK) and each new connection, failing fast after one did not."""
    dbapi = engine.dialect.loaded_dbapi
    # A COMMIT or ROLLBACK with no transaction open makes no round trip: nothing to watch.
    idle = dbapi.pq.TransactionStatus.IDLE
    breaker = Breaker()

    def admitted() -> float | None:
        wait = request_wait()
        if wait is not None:
            breaker.admit(wait, dbapi.OperationalError)
        return wait

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, _rec, cargs, cparams):  # noqa: ANN001, ANN202
        if (wait := admitted()) is None:
            return None  # SQLAlchemy connects, within connect_timeout
        try:
            conn = connect_within(wait, lambda: dialect.connect(*cargs, **cparams))
        except TimeoutError:
            # Only a wait trips the breaker: a refused connection fails at once anyway, and the next
            # request must find a restarted server without a pause.
            breaker.trip(f"no connection within {wait:g} s")
            raise dbapi.OperationalError(
                f"no answer from the database within {wait:g} s (connecting)"
            ) from None
        breaker.answered()
        return conn

    def _arm(conn: Connection) -> None:
        # An invalidated connection has nothing to commit or roll back on the server: no round trip.
        if (wait := request_wait()) is None or conn.invalidated:
            return
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn is not None and dbapi_conn.info.transaction_status != idle:
            _WATCHDOG.arm(dbapi_conn, wait)

    # Inside SQLAlchemy's error handling (unlike before_cursor_execute): what these raise is wrapped and
    # rolled back like any DBAPI error.
    @event.listens_for(engine, "do_execute")
    @event.listens_for(engine, "do_executemany")
    def _execute(cursor, _statement, _params, _context):  # noqa: ANN001, ANN202
        if (wait := admitted()) is not None:
            _WATCHDOG.arm(cursor.connection, wait)

    @event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, _statement, _context):  # noqa: ANN001, ANN202
        if (wait := admitted()) is not None:
            _WATCHDOG.arm(cursor.connection, wait)

    @event.listens_for(engine, "after_cursor_execute")
    def _executed(_conn, cursor, _statement, _params, _context, _many):  # noqa: ANN001, ANN202
        _WATCHDOG.disarm(cursor.connection)
        breaker.answered()

    event.listen(engine, "commit", _arm)
    event.listen(engine, "rollback", _arm)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_conn, _rec, _state):  # noqa: ANN001, ANN202
        if (wait := request_wait()) is not None and dbapi_conn.info.transaction_status != idle:
            _WATCHDOG.arm(dbapi_conn, wait)

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn, _rec):  # noqa: ANN001, ANN202
        if dbapi_conn is not None:
            _WATCHDOG.disarm(dbapi_conn)

    @event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_conn, _rec, _exc):  # noqa: ANN001, ANN202
        if dbapi_conn is not None:
            _WATCHDOG.disarm(dbapi_conn)  # its id may be another connection's next

    @event.listens_for(engine, "handle_error", retval=True)
    def _failed(ctx: ExceptionContext) -> BaseException | None:
        conn = ctx.connection
        if conn is None or conn.invalidated or conn.connection.dbapi_connection is None:
            return None
        if not _WATCHDOG.disarm(conn.connection.dbapi_connection):
            return None
        wait = request_wait() or REQUEST_WAIT_S
        breaker.trip(f"no answer within {wait:g} s")
        # Say what happened rather than psycopg's "server closed the connection unexpectedly".
        orig = dbapi.OperationalError(f"no answer from the database within {wait:g} s")
        return OperationalError(ctx.statement, None, orig, connection_invalidated=True)
