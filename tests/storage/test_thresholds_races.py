"""Threshold rules under races and failures: one case per breach across evaluations, teams failing alone, indexes."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from bot.alerts.thresholds import Thresholds
from bot.cases import opening
from bot.cases.lifecycle import Cases
from config.teams import Threshold
from storage.models import Case
from tests.storage.test_thresholds import (
    CSAT_1H,
    HOUR,
    KEY,
    MIN,
    T0,
    add,
    make_config,
    posts,
    threshold_cases,
)

# -- concurrency and failures ----------------------------------------------------------------------------


def test_the_same_breach_opened_twice_from_a_stale_read_opens_one_case(sessions, config):
    def open_it(now: datetime) -> Case | None:
        with sessions.begin() as s:
            case = opening.open_threshold_case(
                s,
                config,
                team="delivery",
                rule_key=KEY,
                severity="high",
                summary={"rule": KEY},
                source="job",
                now=now,
            )
            # The rest of the unit of work survives a lost race (on PostgreSQL too, thanks to the savepoint).
            s.add(
                Case(
                    kind="feedback",
                    team="delivery",
                    state="open",
                    version=1,
                    severity="medium",
                    opened_at=now,
                    summary={},
                )
            )
        return case

    first = open_it(T0)
    assert first is not None and first.active_rule == KEY
    assert (
        open_it(T0 + MIN) is None
    )  # as an evaluation that read "no active case" before the first committed would
    assert [c.id for c in threshold_cases(sessions)] == [first.id]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.kind == "feedback")) == 2
    assert [p[0] for p in posts(sessions)] == [f"case:{first.id}:open"]


@pytest.mark.parametrize("round_", range(3))
def test_two_evaluations_at_once_open_one_case(sessions, round_):
    config = make_config([CSAT_1H])
    add(sessions, *[("csat", 1, T0 - MIN)] * 5)
    barrier = threading.Barrier(2)
    reports = []

    def evaluate() -> None:
        evaluator = Thresholds(sessions, config, Cases(sessions, config))
        barrier.wait()
        reports.append(evaluator.evaluate(T0))

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.failed for r in reports] == [{}, {}]
    assert sum(len(r.opened) for r in reports) == 1
    assert len(threshold_cases(sessions)) == 1 and len(posts(sessions)) == 1


def test_one_team_failing_does_not_stop_the_others(sessions, caplog):
    config = make_config([CSAT_1H])
    # A rule the evaluator cannot read (as from a config that bypassed validation): support fails first.
    broken = Threshold.model_construct(
        metric="sentiment", below=1.0, above=None, window=HOUR, min_responses=1, category=None
    )
    teams = {
        "support": config.teams["support"].model_copy(update={"thresholds": [broken]}),
        "delivery": config.teams["delivery"],
    }
    config = config.model_copy(update={"teams": teams})
    add(sessions, *[("csat", 1, T0 - MIN)] * 5)
    report = Thresholds(sessions, config, Cases(sessions, config)).evaluate(
        T0, ["support", "nowhere", "delivery"]
    )
    assert report.failed == {
        "support": "ValueError: unknown threshold metric 'sentiment'",
        "nowhere": "LookupError: team 'nowhere' is not configured",
    }
    assert [c.team for c in report.opened] == ["delivery"] and len(threshold_cases(sessions)) == 1
    assert "threshold evaluation failed for team support" in caplog.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # EXPLAIN QUERY PLAN is SQLite's
def test_readings_are_served_by_indexes_on_sqlite(sessions, engine):
    config = make_config(
        [
            CSAT_1H,
            {"metric": "nps", "below": 0, "window": "7d"},
            {"metric": "ces", "above": 5, "window": "1h"},
            {"metric": "cases", "above": 10, "window": "1h"},
            {"metric": "complaints", "category": "late_delivery", "above": 5, "window": "1h"},
        ]
    )
    add(sessions, *[("csat", 1, T0 - MIN, "late_delivery")] * 20)
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ANN202
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        Thresholds(sessions, config, Cases(sessions, config)).evaluate(T0)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) >= 4
    with engine.connect() as conn:
        for sql, params in seen:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
            tables = [line for line in plan if line.startswith(("SCAN", "SEARCH"))]
            assert tables and all("USING" in line for line in tables), (sql, plan)
