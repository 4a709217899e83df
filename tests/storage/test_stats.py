"""`/feedback stats` on a real database: every number against hand arithmetic, the period's edges, one query per measure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cases.lifecycle import Cases
from bot.errors import NotFound
from bot.reports.quality import Reopens
from bot.reports.stats import Stats, percentile
from bot.reports.weekly import Compliance
from tests.storage.test_digest import feedback, open_case, resolve, statements

U = datetime(
    2026, 3, 31, 12, 0, tzinfo=UTC
)  # `until`, and `now`: the stats command asks about the present
P = U - timedelta(days=30)  # `since`
H, MIN, DAY, US = (
    timedelta(hours=1),
    timedelta(minutes=1),
    timedelta(days=1),
    timedelta(microseconds=1),
)
AGENT, LEADER = "U0AGENT1", "U0LEADER1"


def scenario(sessions, config) -> None:  # noqa: ANN001
    # delivery: ack 15m, resolve 1d; support: ack 30m, resolve 2d
    feedback(sessions, "csat", 5, P)  # at `since`: counts
    feedback(sessions, "csat", 3, U - US)
    feedback(sessions, "csat", 1, U)  # at `until`: does not
    feedback(sessions, "csat", 4, P - US)  # before: does not
    for score in (9, 10, 3, 7):
        feedback(sessions, "nps", score, P + 3 * DAY)
    for score in (2, 5, 6):
        feedback(sessions, "ces", score, P + 4 * DAY)

    cases = Cases(sessions, config)
    ack = lambda case_id, at: cases.acknowledge(case_id, actor=AGENT, source="button", now=at)  # noqa: E731

    def reopen(case_id, at):  # noqa: ANN001, ANN202
        return cases.reopen(case_id, "again", actor=LEADER, source="command", now=at)

    d1 = open_case(sessions, P - 2 * H)
    ack(d1, P - H)  # acknowledged before the period: no TTA
    resolve(cases, d1, P + H)  # TTR 3h
    d2 = open_case(sessions, P + H)
    ack(d2, P + H + 10 * MIN)
    resolve(cases, d2, P + 6 * H)  # TTR 5h
    d3 = open_case(sessions, P + 2 * H)
    resolve(cases, d3, P + 2 * H + 20 * MIN)  # straight from open: TTA and TTR 20m
    d4 = open_case(sessions, P + 3 * H)
    ack(d4, P + 3 * H + 15 * MIN)  # exactly at the deadline: met
    resolve(cases, d4, P + 3 * H + 2 * DAY)  # TTR 2d
    d5 = open_case(sessions, P + 4 * H)
    ack(d5, P + 5 * H)  # TTA 1h
    resolve(cases, d5, P + 5 * DAY)
    reopen(d5, P + 6 * DAY)
    ack(d5, P + 6 * DAY + H)  # acknowledged again: TTA counts the first acknowledgement only
    d6 = open_case(sessions, P + 5 * H)
    resolve(cases, d6, P + 5 * H + 30 * MIN)  # TTA 30m
    reopen(d6, P + 7 * H)
    resolve(cases, d6, P + 9 * H)  # TTR 4h: the last resolution
    open_case(sessions, U - 10 * MIN)  # d7
    open_case(sessions, U - 20 * MIN)  # d8
    d9 = open_case(sessions, U - 20 * H)
    ack(d9, U - 20 * H + 10 * MIN)
    d10 = open_case(sessions, U - 2 * DAY)
    ack(d10, U - 2 * DAY + 5 * MIN)
    d11 = open_case(sessions, P - 40 * DAY)
    ack(d11, P + 2 * DAY)  # first acknowledged in the period: TTA 42d
    open_case(sessions, U)  # d12: opened at `until`
    d14 = open_case(sessions, P - 10 * MIN)
    ack(d14, P)  # at `since`: counts
    resolve(cases, d14, P + 20 * H)  # TTR 20h 10m

    s1 = open_case(sessions, P + DAY, team="support")
    cases.acknowledge(s1, actor=LEADER, source="button", now=P + DAY + 40 * MIN)
    resolve(cases, s1, P + 2 * DAY)
    open_case(sessions, P + 2 * DAY, team="support")  # s2: never touched


def test_stats_numbers(sessions, config, engine) -> None:  # noqa: ANN001
    scenario(sessions, config)
    stats = Stats(sessions, config)
    with statements(engine) as seen:
        delivery, support = stats.for_teams(["delivery", "support"], P, U, U)
    # One statement per measure for all the teams together: headlines, opened, backlog, TTA, TTR, compliance,
    # reopens.
    assert len([sql for sql, _ in seen if sql.lstrip().upper().startswith("SELECT")]) == 7

    assert (delivery.team, delivery.since, delivery.until) == ("delivery", P, U)
    # Opened in [P, U): d2, d3, d4, d5, d6, d7, d8, d9, d10 — not d1, d11, d14 (before), d12 (at U)
    assert delivery.opened == 9
    # Standing resolved by a resolution in [P, U): d1 3h, d2 5h, d3 20m, d4 2d, d6 4h, d14 20h 10m — not d5 (reopened)
    assert delivery.resolved == 6
    # 20m, 3h, [4h, 5h], 20h 10m, 2d → median (4h + 5h) / 2; p90: rank ⌈0.9 · 6⌉ = 6 → 2d
    assert (delivery.ttr_median, delivery.ttr_p90) == ((4 * H + 5 * H) / 2, 2 * DAY)
    # First acknowledged in [P, U): d2 10m, d3 20m, d4 15m, d5 1h, d6 30m, d9 10m, d10 5m, d11 42d, d14 10m
    assert delivery.acknowledged == 9
    # 5m, 10m, 10m, 10m, [15m], 20m, 30m, 1h, 42d → median the 5th; p90: rank ⌈0.9 · 9⌉ = 9 → 42d
    assert (delivery.tta_median, delivery.tta_p90) == (15 * MIN, 42 * DAY)
    # Unresolved at U: d5, d7, d8, d9, d10, d11, d12; overdue: d5, d10, d11 (resolve), d8 (ack: 20m > 15m)
    assert (delivery.open, delivery.overdue) == (7, 4)
    # Ack deadline (opened + 15m) in [P, U): d2, d3, d4, d5, d6, d8, d9, d10, d14; met: d2, d4, d9, d10, d14
    assert delivery.ack == Compliance(due=9, met=5) and delivery.ack.percent == pytest.approx(
        100 * 5 / 9
    )
    # Resolve deadline (opened + 1d) in [P, U): d1, d2, d3, d4, d5, d6, d10, d14; met: d1, d2, d3, d6, d14
    assert delivery.resolve == Compliance(
        due=8, met=5
    ) and delivery.resolve.percent == pytest.approx(100 * 5 / 8)
    h = delivery.headline
    # csat 5, 3 → 1 of 2; nps 9, 10, 3, 7 → (2 − 1) of 4; ces (2 + 5 + 6) / 3
    assert (h.csat, h.csat_n) == (pytest.approx(50.0), 2)
    assert (h.nps, h.nps_n) == (pytest.approx(100 * (2 - 1) / 4), 4)
    assert (h.ces, h.ces_n) == (pytest.approx((2 + 5 + 6) / 3), 3)

    # support (ack 30m, resolve 2d): s1 acknowledged in 40m, resolved in 1d; s2 never touched, past both deadlines
    assert (
        support.opened,
        support.resolved,
        support.open,
        support.overdue,
        support.acknowledged,
    ) == (2, 1, 1, 1, 1)
    assert (support.tta_median, support.tta_p90, support.ttr_median, support.ttr_p90) == (
        40 * MIN,
        40 * MIN,
        DAY,
        DAY,
    )
    assert (support.ack, support.resolve) == (Compliance(2, 0), Compliance(2, 1))
    assert (support.headline.csat, support.headline.nps_n, support.headline.ces) == (None, 0, None)
    # Resolved at least once in [P, U): d1, d2, d3, d4, d5, d6, d14; reopened: d5 (still open), d6 (resolved again)
    assert delivery.reopens == Reopens(resolved=7, reopened=2)
    assert support.reopens == Reopens(resolved=1, reopened=0)


def test_teams_in_the_order_asked_and_a_quiet_period(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions, config)
    stats = Stats(sessions, config)
    assert [t.team for t in stats.for_teams(["support", "delivery"], P, U, U)] == [
        "support",
        "delivery",
    ]
    assert stats.for_teams([], P, U, U) == []
    # A week before any of it: nothing opened, resolved or measured, compliance unknown — but the backlog is today's.
    [quiet] = stats.for_teams(["delivery"], P - 60 * DAY, P - 50 * DAY, U)
    assert (quiet.opened, quiet.resolved, quiet.acknowledged) == (0, 0, 0)
    assert (quiet.tta_median, quiet.tta_p90, quiet.ttr_median, quiet.ttr_p90) == (
        None,
        None,
        None,
        None,
    )
    assert (quiet.ack, quiet.resolve) == (
        Compliance(0, 0),
        Compliance(0, 0),
    ) and quiet.ack.percent is None
    assert (quiet.open, quiet.overdue) == (7, 4)
    assert quiet.headline.csat_n == 0 and quiet.headline.csat is None


def test_unknown_team_and_empty_period(sessions, config) -> None:  # noqa: ANN001
    stats = Stats(sessions, config)
    with pytest.raises(NotFound):
        stats.for_teams(["delivery", "nope"], P, U, U)
    with pytest.raises(ValueError):
        stats.for_teams(["delivery"], U, U, U)


def test_percentile_is_nearest_rank() -> None:
    minutes = [timedelta(minutes=m) for m in range(10, 0, -1)]  # 10m … 1m, unsorted
    assert percentile(minutes, 90) == timedelta(minutes=9)  # ⌈0.9 · 10⌉ = 9th
    assert percentile([*minutes, timedelta(minutes=11)], 90) == timedelta(
        minutes=10
    )  # ⌈9.9⌉ = 10th of 11
    assert percentile(minutes, 50) == timedelta(minutes=5) and percentile(
        minutes, 100
    ) == timedelta(minutes=10)
    assert percentile([timedelta(hours=3)], 90) == timedelta(hours=3)
    assert percentile([], 90) is None
    with pytest.raises(ValueError):
        percentile(minutes, 0)
