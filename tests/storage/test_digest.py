"""The huddle digest on a real database: every number against hand arithmetic, the period's edges, the queries' plans."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from bot.cases.lifecycle import Cases
from bot.errors import NotFound
from bot.reports.digest import Digests, Limit, Verbatim, compose
from config.loader import parse_config
from storage.models import Case, CaseEvent, Feedback
from tests.conftest import CONFIG

# Monday 2 March 2026, 07:30 in New York (EST, before the DST change of 8 March).
S = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
U = S + timedelta(days=1)
H, MIN, DAY, US = (
    timedelta(hours=1),
    timedelta(minutes=1),
    timedelta(days=1),
    timedelta(microseconds=1),
)
AGENT, LEADER = "U0AGENT1", "U0LEADER1"
_ids = itertools.count(1)


@pytest.fixture
def config():  # noqa: ANN201
    """The shared config, with threshold rules and stricter-than-default negative limits for delivery."""
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["open_case_when"] = {
        "csat_at_most": 3,
        "nps_at_most": 5,
        "ces_at_least": 6,
    }
    raw["teams"]["delivery"]["thresholds"] = [
        {"metric": "csat", "below": 80, "window": "24h", "min_responses": 20},
        {"metric": "ces", "above": 4.5, "window": "7d"},
        {"metric": "cases", "above": 10, "window": "1h"},
        {"metric": "complaints", "category": "late_delivery", "above": 5, "window": "1h"},
    ]
    return parse_config(raw, "tests/storage/test_digest.py")


def feedback(
    sessions,
    metric: str,
    score: int,
    at: datetime,
    comment: str | None = None,  # noqa: ANN001
    category: str | None = None,
    team: str = "delivery",
) -> None:
    with sessions.begin() as s:
        s.execute(
            insert(Feedback),
            {
                "source": "test",
                "external_id": f"f-{next(_ids)}",
                "team": team,
                "metric": metric,
                "score": score,
                "comment": comment,
                "category": category,
                "submitted_at": at,
                "received_at": at,
            },
        )


def open_case(sessions, at: datetime, team: str = "delivery") -> int:  # noqa: ANN001
    """A case opened at `at`, with its 'opened' event, as bot.cases.opening.open_feedback_cases writes it."""
    with sessions.begin() as s:
        case = Case(
            kind="feedback",
            team=team,
            state="open",
            version=1,
            severity="high",
            opened_at=at,
            summary={"metric": "csat", "score": 1},
        )
        s.add(case)
        s.flush()
        s.add(
            CaseEvent(
                case_id=case.id, kind="opened", actor="loopbot", source="api", at=at, details={}
            )
        )
        return case.id


def resolve(cases: Cases, case_id: int, at: datetime) -> None:
    cases.resolve(
        case_id,
        outcome="fixed",
        root_cause="other",
        action="Refunded",
        actor=LEADER,
        source="modal",
        now=at,
    )


@contextmanager
def statements(engine) -> Iterator[list[tuple[str, object]]]:  # noqa: ANN001
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ANN202
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def feedback_fixture(sessions) -> None:  # noqa: ANN001
    """Responses of the period [S, U), of the period before [S - 1d, S), and around both."""
    f = lambda *a, **kw: feedback(sessions, *a, **kw)  # noqa: E731
    # The period. Delivery's negatives: csat ≤ 3, nps ≤ 5, ces ≥ 6 (the defaults would be ≤ 2, ≤ 6, ≥ 5).
    f("csat", 5, S, "Great service, thanks!")  # at `since`: counts
    f("csat", 4, S + 1 * H, "ok", "rude_staff")
    f("csat", 4, S + 2 * H)
    f("csat", 1, S + 3 * H, "Parcel never arrived <!channel>", "late_delivery")
    f("csat", 3, S + 4 * H, "average", "rude_staff")
    f("nps", 10, S + 5 * H, "Love it & more")
    f("nps", 9, S + 6 * H)
    f("nps", 9, S + 7 * H)
    f(
        "nps", 6, S + 8 * H, "meh", "rude_staff"
    )  # negative by the defaults, not by delivery's limits
    f("nps", 3, S + 9 * H, "slow", "late_delivery")
    f("nps", 0, S + 10 * H, None, "billing")
    f("ces", 2, S + 11 * H, "easy")
    f("ces", 6, S + 12 * H, "app crashed", "app_error")
    f(
        "ces", 7, S + 13 * H, "   ", "late_delivery"
    )  # a blank comment is no verbatim, but still a complaint
    f("ces", 5, S + 14 * H, None, "app_error")  # negative by the defaults, not by delivery's limits
    f("ces", 7, S + 15 * H, "crash again <@U1>", "app_error")
    f("nps", 10, S + 16 * H)
    f("csat", 1, U, "at until: next period", "late_delivery")  # at `until`: does not count
    f("csat", 1, S + 2 * H, "another team's", "late_delivery", team="support")
    # The period before: [S - 1d, S).
    f("csat", 5, S - DAY)
    f("csat", 1, S - US, "the period before", "late_delivery")
    f("nps", 10, S - 2 * H)
    f("nps", 2, S - 3 * H)
    f("csat", 1, S - DAY - US)  # before both periods


def test_digest_numbers(sessions, config):  # noqa: ANN001
    feedback_fixture(sessions)
    cases = Cases(sessions, config)
    open_case(sessions, U - 3 * DAY)  # a: never acknowledged: overdue twice over, and the oldest
    open_case(sessions, U - 10 * MIN)  # b: its 15m ack deadline is still ahead
    c = open_case(sessions, U - 2 * H)
    cases.acknowledge(
        c, actor=AGENT, source="button", now=U - 110 * MIN
    )  # within 15m; resolve due U + 22h
    d = open_case(sessions, U - 30 * H)
    cases.acknowledge(
        d, actor=AGENT, source="button", now=U - 29 * H
    )  # acknowledged, but its 1d resolve deadline passed
    e = open_case(sessions, S - 2 * H)
    resolve(cases, e, S + 2 * H)  # straight from open: TTR 4h
    f = open_case(sessions, S - DAY)
    resolve(cases, f, S - H)  # before the period…
    cases.reopen(f, "customer wrote again", actor=LEADER, source="command", now=S + H)
    resolve(cases, f, S + 7 * H)  # …the last resolution counts: TTR 1d + 7h = 31h
    g = open_case(sessions, S + H)
    resolve(cases, g, S + 2 * H)
    cases.reopen(
        g, "not fixed", actor=LEADER, source="command", now=S + 3 * H
    )  # open again: not resolved
    h = open_case(sessions, S + 4 * H)
    cases.acknowledge(h, actor=AGENT, source="button", now=S + 5 * H)
    resolve(cases, h, S + 10 * H)  # TTR 6h
    i = open_case(sessions, U - 5 * H)
    resolve(cases, i, U)  # at `until`: not in this period
    j = open_case(sessions, S - 5 * H)
    resolve(cases, j, S)  # at `since`: in it, TTR 5h
    open_case(sessions, S, team="support")

    with sessions() as s:
        dg = compose(s, config.teams["delivery"], since=S, until=U, now=U)

    assert (dg.team, dg.since, dg.until) == ("delivery", S, U)
    assert dg.responses == 5 + 7 + 5 and not dg.quiet
    # CSAT: 5, 4, 4, 1, 3 → 3 of 5 satisfied; before: 5, 1 → 1 of 2
    assert (dg.csat.value, dg.csat.n) == (pytest.approx(100 * 3 / 5), 5)
    assert (dg.csat.previous, dg.csat.previous_n) == (pytest.approx(100 * 1 / 2), 2)
    assert dg.csat.change == pytest.approx(100 * 3 / 5 - 100 * 1 / 2)
    # NPS: 10, 9, 9, 6, 3, 0, 10 → 4 promoters − 3 detractors of 7; before: 10, 2 → 1 − 1 of 2
    assert (dg.nps.value, dg.nps.n) == (pytest.approx(100 * (4 - 3) / 7), 7)
    assert (dg.nps.previous, dg.nps.previous_n) == (pytest.approx(0.0), 2)
    assert dg.nps.change == pytest.approx(100 * (4 - 3) / 7 - 0)
    # CES: (2 + 6 + 7 + 5 + 7) / 5; none before, so no change
    assert (dg.ces.value, dg.ces.n) == (pytest.approx((2 + 6 + 7 + 5 + 7) / 5), 5)
    assert (dg.ces.previous, dg.ces.previous_n, dg.ces.change) == (None, 0, None)
    # The metric rules only; the cases and complaints rules are no metric's
    assert dg.csat.thresholds == (Limit("below", 80, 24 * H),)
    assert dg.ces.thresholds == (Limit("above", 4.5, 7 * DAY),)
    assert dg.nps.thresholds == ()
    assert [m.metric for m in dg.metrics] == ["csat", "nps", "ces"]

    # Unresolved: a, b, c, d, g; in state open: a, b, g (reopened); overdue: a (both deadlines), d (resolve)
    assert (dg.open, dg.unacknowledged, dg.overdue) == (5, 3, 2)
    assert dg.oldest_open_age == 3 * DAY  # a
    # Resolved in [S, U): e 4h, f 31h, h 6h, j 5h (g was reopened, i resolved at U) → median (5h + 6h) / 2
    assert dg.resolved == 4
    assert dg.median_ttr == (5 * H + 6 * H) / 2

    # Negatives by delivery's limits: late_delivery csat 1, nps 3, ces 7; app_error ces 6, ces 7; billing nps 0;
    # rude_staff csat 3 — tied with billing at 1, and billing sorts first
    assert dg.top_categories == (("late_delivery", 3), ("app_error", 2), ("billing", 1))

    # Worst first on each scale (csat 1 = nps 0 = ces 7 = 1, ces 6 = 5/6); the tie of ces 7 and csat 1 goes to the newest
    assert dg.lowest == (
        Verbatim("ces", 7, "crash again <@U1>", S + 15 * H),
        Verbatim("csat", 1, "Parcel never arrived <!channel>", S + 3 * H),
        Verbatim("ces", 6, "app crashed", S + 12 * H),
    )
    # csat 5 and nps 10 are both the best of their scale: the newer one
    assert dg.praise == Verbatim("nps", 10, "Love it & more", S + 5 * H)


def test_lowest_and_praise_keep_apart_and_may_be_missing(sessions, config):  # noqa: ANN001
    feedback(sessions, "nps", 9, S + H, "fine")  # a promoter: praise, never among the lowest
    feedback(sessions, "ces", 4, S + 2 * H, "so-so")  # (4 - 1) / 6 = 1/2
    feedback(
        sessions, "csat", 3, S + 3 * H, "could be better"
    )  # (5 - 3) / 4 = 1/2: the same, and newer
    feedback(sessions, "nps", 8, S + 4 * H, "")  # an empty comment is no verbatim
    with sessions() as s:
        dg = compose(s, config.teams["delivery"], since=S, until=U, now=U)
        quiet_praise = compose(s, config.teams["delivery"], since=S + 2 * H, until=U, now=U)
    assert dg.lowest == (
        Verbatim("csat", 3, "could be better", S + 3 * H),
        Verbatim("ces", 4, "so-so", S + 2 * H),
    )
    assert dg.praise == Verbatim("nps", 9, "fine", S + H)
    assert quiet_praise.praise is None and len(quiet_praise.lowest) == 2


def test_quiet_period_still_counts_the_backlog(sessions, config):  # noqa: ANN001
    feedback(sessions, "csat", 1, S + H, "delivery's", "late_delivery")
    feedback(sessions, "csat", 2, S - H, team="support")  # the period before
    opened = open_case(sessions, S - 2 * DAY, team="support")  # support: ack 30m, resolve 2d
    with sessions() as s:
        dg = compose(s, config.teams["support"], since=S, until=U, now=U)
    assert dg.quiet and dg.responses == 0
    assert [(m.value, m.n) for m in dg.metrics] == [(None, 0)] * 3
    assert (dg.csat.previous, dg.csat.previous_n, dg.csat.change) == (0.0, 1, None)
    assert (dg.top_categories, dg.lowest, dg.praise) == ((), (), None)
    assert (dg.open, dg.unacknowledged, dg.overdue, dg.oldest_open_age) == (1, 1, 1, 3 * DAY)
    assert (dg.resolved, dg.median_ttr) == (0, None)
    assert opened > 0


def test_empty_backlog(sessions, config):  # noqa: ANN001
    with sessions() as s:
        dg = compose(s, config.teams["delivery"], since=S, until=U, now=U)
    assert (dg.open, dg.unacknowledged, dg.overdue, dg.oldest_open_age) == (0, 0, 0, None)


def test_for_team_covers_the_time_since_the_previous_huddle(sessions, config):  # noqa: ANN001
    digests = Digests(sessions, config)
    # delivery huddles at 09:00 Mon–Fri, New York time (EST = UTC−5 until 8 March)
    tue_0900 = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    mon_0900 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    fri_0900 = datetime(2026, 2, 27, 14, 0, tzinfo=UTC)
    feedback(sessions, "csat", 5, mon_0900)  # in the Monday → Tuesday huddle
    feedback(sessions, "csat", 1, tue_0900)  # in the next one
    at_fire = digests.for_team(
        "delivery", tue_0900
    )  # fired at 09:00: the previous 09:00 → this one
    assert (at_fire.since, at_fire.until, at_fire.responses, at_fire.csat.value) == (
        mon_0900,
        tue_0900,
        1,
        100.0,
    )
    assert digests.for_team("delivery", mon_0900).since == fri_0900  # over the weekend
    later = digests.for_team("delivery", tue_0900 + 90 * MIN)  # `/feedback digest` at 10:30
    assert (later.since, later.responses, later.csat.value) == (tue_0900, 1, 0.0)
    chosen = digests.for_team("delivery", tue_0900, since=tue_0900 - 2 * DAY)
    assert (chosen.since, chosen.responses) == (tue_0900 - 2 * DAY, 1)


def test_unknown_team_names_the_configured_ones(sessions, config):  # noqa: ANN001
    with pytest.raises(
        NotFound, match=r"There is no team `ghost`\. Teams: `delivery`, `support`\."
    ) as exc:
        Digests(sessions, config).for_team("ghost", U)
    assert exc.value.field == "team"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # EXPLAIN QUERY PLAN is SQLite's
def test_every_query_reads_an_index_not_the_table(sessions, config, engine):  # noqa: ANN001
    feedback_fixture(sessions)
    open_case(sessions, S)
    with sessions() as s, statements(engine) as seen:
        compose(s, config.teams["delivery"], since=S, until=U, now=U)
    selects = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    # 2 headline passes, backlog, resolutions, categories, verbatims, signals
    assert len(selects) == 7
    with engine.connect() as conn:
        for sql, params in selects:
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
            tables = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
            assert tables, plan
            for step in tables:
                # Only subqueries are scanned; every table is searched through an index.
                assert step.startswith("SEARCH") or step.startswith("SCAN anon_"), (sql, plan)
                if " feedback " in f"{step} ":
                    assert "ix_feedback_team_metric_submitted_at_score" in step, (sql, plan)
