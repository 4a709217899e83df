"""Migrations build exactly the schema the models describe, on every backend, and re-run harmlessly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.reports.queries import list_cases
from config.teams import Sla
from storage import migrate
from storage.models import Base


def test_migrated_schema_matches_models_and_upgrade_is_idempotent(engine):
    migrate.upgrade(engine)  # the fixture already upgraded once: a second run must be a no-op
    assert migrate.head_revision() == "0008"
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("feedback")}
    assert {
        "ix_feedback_team_metric_submitted_at_score",
        "ix_feedback_team_category_submitted_at",
    } <= indexes
    assert "ix_cases_slack_channel_slack_ts" in {
        i["name"] for i in inspect(engine).get_indexes("cases")
    }


def test_window_aggregate_uses_the_covering_index(engine):
    query = (
        "SELECT count(*), avg(score) FROM feedback WHERE team = 'delivery' AND metric = 'csat' "
        "AND submitted_at >= '2026-01-01'"
    )
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

    def seen(_c, _cur, sql, params, _ctx, _many):  # noqa: ANN001, ANN202
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as s:
            list_cases(
                s,
                teams={"delivery": Sla(ack="15m", resolve="1d")},
                filter="open",
                user=None,
                now=utcnow(),
            )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    rows_query, params = statements[-1]  # the list is one statement
    # A connection of its own: on SQLite a connection holds this process's writer lock until it is returned.
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(explain + rows_query, params))
    assert "ix_cases_unresolved_team_opened_at" in plan
