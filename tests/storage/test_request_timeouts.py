"""A web request's database waits are bounded (storage.timeouts); jobs' waits are not. Real databases: a
write held by another unit of work, a pool with its one connection taken, a server that never answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage.db import make_engine, make_sessions
from storage.timeouts import PAUSE_S, REQUEST_WAIT_S, request_scope
from tests.e2e.test_start_errors import silent_server  # noqa: F401 - the fixture

BOUND_S = 2.0  # what a request answers within: its wait, then the 503 or the "try again"


def timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def bump(engine: Engine) -> None:
    with make_sessions(engine).begin() as s:
        s.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))


def hold_a_write(engine: Engine, seconds: float) -> threading.Thread:
    """A job's unit of work holding its write (the row on PostgreSQL, the write lock on SQLite)."""
    holding = threading.Event()

    def hold() -> None:
        with make_sessions(engine).begin() as s:
            s.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
            holding.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    return thread


@pytest.fixture
def counter(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()


def test_a_request_waits_for_a_held_write_no_longer_than_its_bound_and_a_job_waits_it_out(counter):
    holder = hold_a_write(counter, 3.0)

    def as_request() -> None:
        with pytest.raises(OperationalError), request_scope():
            bump(counter)

    waited = timed(as_request)
    assert (
        REQUEST_WAIT_S - 0.2 <= waited < BOUND_S
    )  # before: SQLite's 30 s busy timeout, or for ever
    job = timed(lambda: bump(counter))  # no scope: it waits for the holder, then writes
    holder.join()
    assert job >= 3.0 - waited - 0.3
    # The holder's and the job's; the request's write was rolled back (on PostgreSQL, by the server once
    # its lock came and it found the connection gone).
    assert count(counter) == 2


# PostgreSQL only: on SQLite a lock wait says nothing about the next request.
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_after_a_request_waited_in_vain_the_next_fail_at_once_then_one_tries_again(counter):
    holder = hold_a_write(counter, 2.0)
    with pytest.raises(
        OperationalError, match=f"no answer from the database within {REQUEST_WAIT_S:g} s"
    ):
        with request_scope():
            bump(counter)

    def reads() -> None:
        with request_scope(), counter.connect() as conn:
            conn.execute(text("SELECT 1"))

    started = time.monotonic()
    with pytest.raises(OperationalError, match="not answering"):
        reads()
    assert time.monotonic() - started < 0.2
    holder.join()
    time.sleep(PAUSE_S)
    assert (
        timed(reads) < 0.5
    )  # past the pause one tries, the database answers, all go through again
    reads()


def test_a_write_held_by_another_process_bounds_a_request_too(tmp_path):
    # Another engine queues on SQLite's own lock (the busy timeout), as `loopbot import` would.
    url = f"sqlite:///{tmp_path / 'two.db'}"
    one, other = make_engine(url), make_engine(url)
    try:
        with one.begin() as conn:
            conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
            conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
        holder = hold_a_write(other, 2.5)

        def as_request() -> None:
            with pytest.raises(OperationalError, match="locked"), request_scope():
                bump(one)

        assert REQUEST_WAIT_S - 0.2 <= timed(as_request) < BOUND_S
        holder.join()
        bump(one)  # the busy timeout is back to the jobs' 30 s on that pooled connection
        assert count(one) == 2
    finally:
        one.dispose()
        other.dispose()


def test_a_request_waits_for_a_pooled_connection_no_longer_than_its_bound(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0)
    try:
        taken = engine.connect()

        def as_request() -> None:
            with pytest.raises(PoolTimeout), request_scope(), engine.connect():
                pass

        assert REQUEST_WAIT_S - 0.2 <= timed(as_request) < BOUND_S
        threading.Timer(2.0, taken.close).start()

        def as_job() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        assert timed(as_job) >= 1.8  # a job waits for it (up to POOL_TIMEOUT_S)
    finally:
        engine.dispose()


def test_a_postgresql_server_that_never_answers_is_given_up_on_within_a_requests_bound(
    silent_server,  # noqa: F811
):
    # psycopg waits 2 s at the least for a connection: a request's connect is given up on sooner.
    engine = make_engine(f"postgresql+psycopg://loopbot@127.0.0.1:{silent_server}/none")
    try:

        def connect() -> None:
            with pytest.raises(OperationalError), engine.connect():
                pass

        def as_request() -> None:
            with request_scope():
                connect()

        assert REQUEST_WAIT_S - 0.2 <= timed(as_request) < BOUND_S
        assert timed(as_request) < 0.2  # the next at once, while the pause lasts
        assert 4.5 <= timed(connect) < 8  # no scope: the 5 s connect_timeout
    finally:
        engine.dispose()
