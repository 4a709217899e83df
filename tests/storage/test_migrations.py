"""Migrations build exactly the schema the models describe, on every backend, and re-run harmlessly; SQLite locking."""
from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.queries import list_cases
from config.teams import Sla
from storage import migrate
from storage.db import make_read_sessions, make_sessions
from storage.models import Base


def test_migrated_schema_matches_models_and_upgrade_is_idempotent(engine):
    migrate.upgrade(engine)  # the fixture already upgraded once: a second run must be a no-op
    assert migrate.head_revision() == "0003"
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("feedback")}
    assert {"ix_feedback_team_metric_submitted_at_score", "ix_feedback_team_category_submitted_at"} <= indexes
    assert "ix_cases_slack_channel_slack_ts" in {i["name"] for i in inspect(engine).get_indexes("cases")}


def test_sqlite_runs_in_wal_with_foreign_keys(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_window_aggregate_uses_the_covering_index(engine):
    query = ("SELECT count(*), avg(score) FROM feedback WHERE team = 'delivery' AND metric = 'csat' "
             "AND submitted_at >= '2026-01-01'")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + query)))
            assert "COVERING INDEX ix_feedback_team_metric_submitted_at_score" in plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + query)))
            assert "ix_feedback_team_metric_submitted_at_score" in plan


def test_open_case_lists_read_the_partial_index_of_unresolved_cases(engine):
    statements: list[tuple[str, object]] = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        event.listen(conn, "before_cursor_execute", lambda _c, _cur, sql, params, _ctx, _many: statements.append((sql, params)))
        with Session(conn) as s:
            list_cases(s, teams={"delivery": Sla(ack="15m", resolve="1d")}, filter="open", user=None, now=utcnow())
        rows_query, params = statements[-1]  # the count comes first, the rows second
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(explain + rows_query, params))
    assert "ix_cases_unresolved_team_opened_at" in plan


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
