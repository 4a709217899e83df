"""Segment SLAs (SPEC §9) on a real database: deadlines, escalations, overdue counts and compliance per case."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bot.alerts.escalations import Escalations
from bot.cases.model import parse_ref
from bot.reports.digest import Digests
from bot.reports.queries import list_cases
from bot.reports.stats import Stats
from bot.reports.weekly import Compliance, Weekly
from bot.slack.blocks.case import case_message
from config.loader import parse_config
from storage import migrate
from storage.db import make_engine
from storage.models import Case, CaseEvent
from tests.conftest import CONFIG
from tests.factories import item

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SEC, MIN, H, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
AGENT, LEADER = "U0AGENT1", "U0LEADER1"


@pytest.fixture
def config():  # noqa: ANN201
    """defaults: ack 30m, resolve 2d, vip 10m / 4h; delivery: 15m / 1d, plus its own gold 5m / 2h."""
    raw = copy.deepcopy(CONFIG)
    raw["defaults"]["sla_by_segment"] = {"vip": {"ack": "10m", "resolve": "4h"}}
    raw["teams"]["delivery"]["sla_by_segment"] = {"Gold": {"ack": "5m", "resolve": "2h"}}
    return parse_config(raw, "tests/storage/test_segment_sla.py")


def open_case(ingestor, segment: str | None, team: str = "support", at: datetime = T0) -> int:  # noqa: ANN001
    """One negative response of `segment` ingested at `at`: its case opens then."""
    raw = item(team=team, score=1, segment=segment, submitted_at=(at - MIN).isoformat())
    valid, errors = ingestor.validate([raw], at)
    assert not errors
    (ref,) = ingestor.store(valid, default_source="api", origin="api", now=at).cases
    return parse_ref(ref)


def overdue_ids(sessions, config, now: datetime, team: str | None = None) -> list[int]:  # noqa: ANN001
    teams = {team: config.teams[team]} if team else config.teams
    with sessions() as s:
        found = list_cases(s, teams=teams, filter="overdue", user=None, now=now, limit=100)
    assert found.total == len(found.rows)
    return sorted(r.id for r in found.rows)


def test_the_case_takes_its_feedbacks_segment_as_slas_match_it(ingestor, sessions, config):  # noqa: ANN001
    refs = [open_case(ingestor, s) for s in ("VIP", " vip ", "smb", "  ", None)]
    with sessions() as s:
        got = [s.get(Case, ref).segment for ref in refs]
        shown = [s.get(Case, ref).summary["segment"] for ref in refs]
    assert got == ["vip", "vip", "smb", None, None]
    assert shown == [
        "VIP",
        " vip ",
        "smb",
        "  ",
        None,
    ]  # the message shows what the customer's tool sent


def test_a_vip_case_is_overdue_and_escalated_on_its_tighter_sla(ingestor, sessions, config, cases):  # noqa: ANN001
    vip = open_case(ingestor, "VIP")
    smb = open_case(ingestor, "smb")  # a segment without an SLA of its own: the team's
    plain = open_case(ingestor, None)
    escalations = Escalations(sessions, config, cases)
    support = config.teams["support"]
    now = T0 + 11 * MIN

    assert escalations.run(now) == [(vip, "ack")]
    (event_,) = escalated(sessions, vip)
    assert event_.details == {"level": "ack", "sla": "10m", "deadline": (T0 + 10 * MIN).isoformat()}
    assert overdue_ids(sessions, config, now) == [vip]
    assert Digests(sessions, config).for_team("support", now).overdue == 1
    (stats,) = Stats(sessions, config).for_teams(["support"], T0 - DAY, now, now)
    assert (stats.open, stats.overdue) == (3, 1)

    detail = cases.get(vip)
    assert (detail.timings.ack_due, detail.timings.resolve_due) == (T0 + 10 * MIN, T0 + 4 * H)
    assert cases.get(smb).timings.ack_due == T0 + 30 * MIN
    sla_line = case_message(detail, support, now=now)["blocks"][3]["elements"][0]["text"]
    assert sla_line.startswith(":stopwatch: Ack by Mon 2 Mar 12:10 UTC :warning: *overdue*"), (
        sla_line
    )
    assert (
        "overdue"
        not in case_message(cases.get(smb), support, now=now)["blocks"][3]["elements"][0]["text"]
    )

    assert escalations.run(T0 + 20 * MIN) == []
    assert escalations.run(T0 + 20 * MIN + SEC) == [(vip, "ack_leaders")]
    assert sorted(escalations.run(T0 + 30 * MIN + SEC)) == sorted([(smb, "ack"), (plain, "ack")])
    assert overdue_ids(sessions, config, T0 + 30 * MIN + SEC) == sorted([vip, smb, plain])
    assert sorted(escalations.run(T0 + H + SEC)) == sorted(
        [(smb, "ack_leaders"), (plain, "ack_leaders")]
    )
    assert escalations.run(T0 + 4 * H + SEC) == [(vip, "resolve")]
    assert escalations.run(T0 + 8 * H + SEC) == [(vip, "resolve_leaders")]
    assert escalations.run(T0 + 2 * DAY - SEC) == []


def test_lists_digest_stats_and_the_case_agree_on_overdue(ingestor, sessions, config, cases):  # noqa: ANN001
    opened = {
        "support": [open_case(ingestor, s) for s in ("vip", "VIP", "gold", None)],
        "delivery": [open_case(ingestor, s, team="delivery") for s in ("GOLD", "vip", "smb", None)],
    }
    acked = [opened["support"][1], opened["delivery"][0], opened["delivery"][2]]
    for ref in acked:
        cases.acknowledge(ref, actor=LEADER, source="button", now=T0 + 3 * MIN)
    digests, stats = Digests(sessions, config), Stats(sessions, config)
    # Each SLA's ack and resolve deadlines, either side: gold 5m / 2h, vip 10m / 4h, delivery 15m / 1d, 30m / 2d.
    for after in (4, 6, 11, 16, 31, 2 * 60 + 1, 4 * 60 + 1, 24 * 60 + 1, 48 * 60 + 1):
        now = T0 + after * MIN
        for team, refs in opened.items():
            # What the case message shows (bot.cases.timings, the SLA of the case's own segment) decides.
            want = sorted(ref for ref in refs if cases.get(ref).timings.overdue(now))
            assert overdue_ids(sessions, config, now, team) == want, (team, after)
            assert digests.for_team(team, now).overdue == len(want), (team, after)
            (row,) = stats.for_teams([team], now - DAY, now, now)
            assert (row.open, row.overdue) == (4, len(want)), (team, after)
    # Gold is delivery's own (support's gold case has support's 30m), vip comes from defaults.
    assert (
        overdue_ids(sessions, config, T0 + 6 * MIN) == []
    )  # delivery's gold case was acknowledged
    assert overdue_ids(sessions, config, T0 + 11 * MIN) == [
        opened["support"][0],
        opened["delivery"][1],
    ]


def test_sla_compliance_counts_each_case_against_its_own_sla(ingestor, sessions, config, cases):  # noqa: ANN001
    def handle(ref: int, ack_after: timedelta, resolve_after: timedelta) -> None:
        cases.acknowledge(ref, actor=LEADER, source="button", now=T0 + ack_after)
        cases.resolve(
            ref,
            outcome="fixed",
            root_cause="other",
            action="Called back",
            actor=LEADER,
            source="modal",
            now=T0 + resolve_after,
        )

    # Handled alike, 12 minutes to acknowledge and 5 hours to resolve: only the VIP case missed both.
    handle(open_case(ingestor, "Vip"), 12 * MIN, 5 * H)
    handle(open_case(ingestor, "smb"), 12 * MIN, 5 * H)
    # delivery: its gold case (5m / 2h) missed the ack only, its plain one (15m / 1d) met both.
    handle(open_case(ingestor, "gold", team="delivery"), 6 * MIN, H)
    handle(open_case(ingestor, None, team="delivery"), 6 * MIN, H)
    until = T0 + 3 * DAY

    got = {
        t.team: (t.ack, t.resolve)
        for t in Stats(sessions, config).for_teams(["support", "delivery"], T0 - DAY, until, until)
    }
    assert got == {
        "support": (Compliance(2, 1), Compliance(2, 1)),
        "delivery": (Compliance(2, 1), Compliance(2, 2)),
    }
    week = {t.team: (t.ack, t.resolve) for t in Weekly(sessions, config).compose(until).teams}
    assert week == got


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # EXPLAIN QUERY PLAN is SQLite's
def test_each_sla_and_level_is_one_range_of_the_unresolved_index(
    ingestor, engine, sessions, config, cases
):  # noqa: ANN001
    for segment in ("vip", "gold", None):
        open_case(ingestor, segment, team="delivery")
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ANN202
        if "FROM cases" in sql and "cases.opened_at <" in sql:
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        # gold's ack and ack_leaders (5m, 10m), vip's ack (10m)
        assert len(Escalations(sessions, config, cases).run(T0 + 11 * MIN)) == 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # Four levels per SLA of a team: delivery's own, gold and vip; support's own and vip.
    assert len(seen) == 4 * 3 + 4 * 2
    with engine.connect() as conn:
        for sql, params in seen:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
            assert plan[0] == (
                "SEARCH cases USING INDEX ix_cases_unresolved_team_opened_at "
                "(team=? AND opened_at>? AND opened_at<?)"
            ), plan


def escalated(sessions, case_id: int) -> list[CaseEvent]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
                .order_by(CaseEvent.id)
            )
        )


def test_migration_backfills_the_segment_of_existing_cases_from_their_feedback(tmp_path) -> None:  # noqa: ANN001
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0006")
    at = T0.isoformat(" ")
    segments = {1: " VIP ", 2: "Smb", 3: None, 4: "ÉLITE", 5: "  "}
    with engine.begin() as conn:
        for fid, segment in segments.items():
            conn.execute(
                text(
                    "INSERT INTO feedback (id, source, external_id, team, metric, score, submitted_at,"
                    " received_at, segment) VALUES (:id, 'api', :id, 'support', 'csat', 1, :at, :at, :seg)"
                ),
                {"id": fid, "at": at, "seg": segment},
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, kind, team, state, version, severity, opened_at, feedback_id,"
                    " summary) VALUES (:id, 'feedback', 'support', 'open', 1, 'high', :at, :id, '{}')"
                ),
                {"id": fid, "at": at},
            )
        conn.execute(  # a threshold case has no feedback, and a case whose feedback was purged none left
            text(
                "INSERT INTO cases (id, kind, team, state, version, severity, opened_at, summary)"
                " VALUES (6, 'threshold', 'support', 'open', 1, 'high', :at, '{}')"
            ),
            {"at": at},
        )
    migrate.upgrade(engine)
    with Session(engine) as s:
        got = dict(s.execute(select(Case.id, Case.segment)).all())
    engine.dispose()
    assert got == {1: "vip", 2: "smb", 3: None, 4: "élite", 5: None, 6: None}
