"""SQLite as the engine sets it up: WAL, foreign keys, read-only units beside the writer, the writer lock."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from storage.db import make_read_sessions, make_sessions


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
        w.execute(text("INSERT INTO claims VALUES ('job', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"))
        # The writer holds SQLite's write lock; a read-only unit must neither wait for it nor see its rows.
        with reads.begin() as r:
            assert r.execute(text("SELECT count(*) FROM claims")).scalar() == 0
    with reads.begin() as r:
        assert r.execute(text("SELECT count(*) FROM claims")).scalar() == 1


def test_a_failed_write_unit_gives_the_writer_lock_back(engine):
    # A leaked lock would make every later writer of this process wait out the 30 s busy timeout.
    writes = make_sessions(engine)
    with pytest.raises(ValueError), writes.begin() as w:
        w.execute(text("INSERT INTO claims VALUES ('a', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"))
        raise ValueError("boom")

    def write() -> None:
        with writes.begin() as w:
            w.execute(text("INSERT INTO claims VALUES ('b', '*', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'me')"))

    other = threading.Thread(target=write)
    other.start()
    other.join(10)
    assert not other.is_alive()
    with make_read_sessions(engine).begin() as r:
        assert r.execute(text("SELECT job FROM claims")).scalars().all() == ["b"]
