"""The engine as storage.db sets it up: SQLite's WAL, foreign keys, read-only units beside the writer and writer lock;
PostgreSQL's autocommit reads and pooled connections the server closed."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from storage.db import make_engine, make_read_sessions, make_sessions
from tests.conftest import _postgres_engine


def test_sqlite_runs_in_wal_with_foreign_keys(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_read_only_unit_reads_beside_an_open_write_unit_on_sqlite(engine):
    if engine.dialect.name != "sqlite":
        return
    writes, reads = make_sessions(engine), make_read_sessions(engine)
    with writes.begin() as w:
        w.execute(
            text(
                "INSERT INTO claims VALUES ('job', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"
            )
        )
        # The writer holds SQLite's write lock; a read-only unit must neither wait for it nor see its rows.
        with reads.begin() as r:
            assert r.execute(text("SELECT count(*) FROM claims")).scalar() == 0
    with reads.begin() as r:
        assert r.execute(text("SELECT count(*) FROM claims")).scalar() == 1


def test_a_failed_write_unit_gives_the_writer_lock_back(engine):
    # A leaked lock would make every later writer of this process wait out the 30 s busy timeout.
    writes = make_sessions(engine)
    with pytest.raises(ValueError), writes.begin() as w:
        w.execute(
            text(
                "INSERT INTO claims VALUES ('a', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"
            )
        )
        raise ValueError("boom")

    def write() -> None:
        with writes.begin() as w:
            w.execute(
                text(
                    "INSERT INTO claims VALUES ('b', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"
                )
            )

    other = threading.Thread(target=write)
    other.start()
    other.join(10)
    assert not other.is_alive()
    with make_read_sessions(engine).begin() as r:
        assert r.execute(text("SELECT job FROM claims")).scalars().all() == ["b"]


@pytest.fixture
def pg_engine():  # noqa: ANN201
    yield from _postgres_engine()


def _backend_state(engine, pid: int) -> str | None:  # noqa: ANN001
    with engine.connect() as other:
        return other.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()


def test_a_read_unit_holds_no_transaction_open_on_postgresql(pg_engine):
    # Autocommit reads: no BEGIN and COMMIT round trips, and nothing left open while the unit renders.
    with make_read_sessions(pg_engine).begin() as r:
        pid = r.execute(text("SELECT pg_backend_pid()")).scalar()
        during_read = _backend_state(pg_engine, pid)
    with make_sessions(pg_engine).begin() as w:
        pid = w.execute(text("SELECT pg_backend_pid()")).scalar()
        during_write = _backend_state(pg_engine, pid)
    assert during_read == "idle"
    assert during_write == "idle in transaction"


def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(pg_engine):
    # As after a restart or a terminated backend: the next unit gets a new connection, not an error.
    engine = make_engine(
        pg_engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0
    )
    sessions = make_sessions(engine)
    try:
        with sessions.begin() as s:
            old = s.execute(text("SELECT pg_backend_pid()")).scalar()
        with pg_engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old}).scalar()
        deadline = time.monotonic() + 10
        while _backend_state(pg_engine, old) is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        with sessions.begin() as s:
            new = s.execute(text("SELECT pg_backend_pid()")).scalar()
        assert new != old
    finally:
        engine.dispose()
