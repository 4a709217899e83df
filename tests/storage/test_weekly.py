"""The weekly summary on a real database: metrics, cases opened and resolved, median TTR and SLA compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cases.lifecycle import Cases
from bot.reports.quality import CategoryAgreement, Reopens
from bot.reports.weekly import Compliance, Weekly, sla_compliance
from tests.storage.test_digest import feedback, open_case, resolve

W = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC: the summary's `until`
P = W - timedelta(days=7)  # its `since`
H, MIN, DAY, US = (
    timedelta(hours=1),
    timedelta(minutes=1),
    timedelta(days=1),
    timedelta(microseconds=1),
)
AGENT, LEADER = "U0AGENT1", "U0LEADER1"


def test_weekly_numbers(sessions, config):  # noqa: ANN001
    # delivery: ack 15m, resolve 1d; support: ack 30m, resolve 2d
    feedback(sessions, "csat", 5, P)  # at `since`: counts
    feedback(sessions, "csat", 4, P + DAY)
    feedback(sessions, "csat", 2, W - US)
    feedback(sessions, "csat", 1, W)  # at `until`: does not
    feedback(sessions, "csat", 1, P - US)
    feedback(sessions, "nps", 10, P + 2 * DAY)
    feedback(sessions, "nps", 6, P + 2 * DAY)
    feedback(sessions, "ces", 3, P + 3 * DAY)
    feedback(sessions, "ces", 4, P + 3 * DAY)
    for score in (9, 9, 1):
        feedback(sessions, "nps", score, P + 4 * DAY, team="support")

    cases = Cases(sessions, config)
    ack = lambda case_id, at: cases.acknowledge(case_id, actor=AGENT, source="button", now=at)  # noqa: E731

    def reopen(case_id, at):  # noqa: ANN001, ANN202
        return cases.reopen(case_id, "again", actor=LEADER, source="command", now=at)

    d1 = open_case(sessions, P - 20 * MIN)
    resolve(cases, d1, P + H)
    d2 = open_case(sessions, P - 10 * MIN)
    ack(d2, P + MIN)
    resolve(cases, d2, P + 2 * DAY)
    open_case(sessions, P + H)  # d3: never acknowledged nor resolved
    d4 = open_case(sessions, P + 2 * H)
    resolve(cases, d4, P + 2 * H + 10 * MIN)  # straight from open: the acknowledgement too
    d5 = open_case(sessions, P + 3 * H)
    ack(d5, P + 3 * H + 16 * MIN)
    resolve(cases, d5, P + 23 * H)
    reopen(d5, P + 33 * H)  # open again at the end of the week
    d6 = open_case(sessions, P + 4 * H)
    resolve(cases, d6, P + 5 * H)
    reopen(d6, P + 6 * H)
    resolve(cases, d6, P + 10 * H)
    open_case(sessions, W - 10 * MIN)  # d7
    d8 = open_case(sessions, W - 20 * MIN)
    ack(d8, W - 6 * MIN)
    d9 = open_case(sessions, W - DAY - MIN)
    ack(d9, W - DAY)
    resolve(cases, d9, W + H)  # after the week
    open_case(sessions, W - DAY + MIN)  # d10
    d11 = open_case(sessions, P - DAY - MIN)
    resolve(cases, d11, P + 30 * MIN)
    d12 = open_case(sessions, P)
    ack(d12, P + 15 * MIN)  # exactly at the deadline: met
    resolve(cases, d12, P + DAY)  # likewise
    open_case(sessions, W)  # d13: opened at `until`
    d14 = open_case(sessions, P - DAY)  # resolve deadline exactly at `since`
    resolve(cases, d14, P + H)
    s1 = open_case(sessions, P + H, team="support")
    cases.acknowledge(s1, actor=LEADER, source="button", now=P + H + 20 * MIN)

    summary = Weekly(sessions, config).compose(W)

    assert (summary.since, summary.until) == (P, W)
    assert [t.team for t in summary.teams] == ["delivery", "support"]
    delivery, support = summary.teams
    h = delivery.headline
    # csat 5, 4, 2 → 2 of 3; nps 10, 6 → 1 − 1 of 2; ces (3 + 4) / 2
    assert (h.csat, h.csat_n) == (pytest.approx(100 * 2 / 3), 3)
    assert (h.nps, h.nps_n) == (pytest.approx(0.0), 2)
    assert (h.ces, h.ces_n) == (pytest.approx((3 + 4) / 2), 2)
    # Opened in [P, W): d3, d4, d5, d6, d7, d8, d9, d10, d12
    assert delivery.opened == 9
    # Standing resolved at W by a resolution in [P, W): d1 80m, d2 2d 10m, d4 10m, d6 6h (its last), d11 1d 31m,
    # d12 1d, d14 1d 1h — not d5 (reopened), d9 (resolved after W)
    assert delivery.resolved == 7
    assert delivery.median_ttr == DAY  # 10m, 80m, 6h, [1d], 1d 1h, 1d 31m, 2d 10m
    # Ack deadline (opened + 15m) in [P, W): d2, d3, d4, d5, d6, d8, d9, d10, d12; met: d2, d4, d8, d9, d12
    assert delivery.ack == Compliance(due=9, met=5) and delivery.ack.percent == pytest.approx(
        100 * 5 / 9
    )
    # Resolve deadline (opened + 1d) in [P, W): d1, d2, d3, d4, d5, d6, d9, d12, d14; met: d1, d4, d6, d12
    assert delivery.resolve == Compliance(
        due=9, met=4
    ) and delivery.resolve.percent == pytest.approx(100 * 4 / 9)

    # support: nps 9, 9, 1 → 2 − 1 of 3; s1 acknowledged in 20m of 30m, unresolved at its 2d deadline
    assert (support.headline.csat, support.headline.csat_n, support.headline.ces) == (None, 0, None)
    assert (support.headline.nps, support.headline.nps_n) == (pytest.approx(100 * (2 - 1) / 3), 3)
    assert (support.opened, support.resolved, support.median_ttr) == (1, 0, None)
    assert (support.ack, support.resolve) == (Compliance(1, 1), Compliance(1, 0))
    assert support.resolve.percent == 0.0
    # Resolved at least once in [P, W): d1, d2, d4, d5, d6, d11, d12, d14; reopened: d5, d6
    assert (delivery.reopens, support.reopens) == (Reopens(8, 2), Reopens())
    # No case had a keyword category: the standing resolved ones are all uncategorised
    assert summary.agreement == CategoryAgreement(uncategorised=7)


def test_compliance_of_a_quiet_week_is_unknown_not_zero(sessions, config):  # noqa: ANN001
    with sessions() as s:
        got = sla_compliance(s, teams={"delivery": config.teams["delivery"].sla}, since=P, until=W)
        nothing = sla_compliance(s, teams={}, since=P, until=W)
    assert got == {"delivery": (Compliance(0, 0), Compliance(0, 0))}
    assert got["delivery"][0].percent is None and nothing == {}
    summary = Weekly(sessions, config).compose(W)
    assert [(t.opened, t.resolved, t.median_ttr, t.headline.csat) for t in summary.teams] == [
        (0, 0, None, None)
    ] * 2


def test_weekly_counts_the_fixes_judged_in_the_week_and_says_how_many_verified(sessions, config):  # noqa: ANN001
    from sqlalchemy import update

    from bot.slack.blocks.weekly import weekly_message
    from storage.models import CorrectiveAction

    cases = Cases(sessions, config)
    refs = []
    for state, at in [
        ("verified", P + DAY),
        ("verified", W - US),
        ("not_verified", P + 2 * DAY),
        ("inconclusive", P + 3 * DAY),
        ("verified", P - US),  # the week before: not counted
        ("verified", W),  # at `until`: not counted
    ]:
        a = cases.actions.plan(
            "delivery", cause="late_delivery", due="2026-04-01", owner=LEADER, text="Cap routes",
            actor=LEADER, source="command", now=P - 10 * DAY,
        ).action  # fmt: skip
        with sessions.begin() as s:
            s.execute(
                update(CorrectiveAction)
                .where(CorrectiveAction.id == a.id)
                .values(state=state, verified_at=at)
            )
        refs.append(a.ref)
    summary = Weekly(sessions, config).compose(W)
    assert (summary.fixes_verified, summary.fixes_judged) == (2, 4)
    message = weekly_message(summary, config)
    assert "Fixes verified this week: *2 of 4*" in str(message["blocks"])
    quiet = Weekly(sessions, config).compose(P - 30 * DAY)
    assert quiet.fixes_judged == 0
    assert "Fixes verified" not in str(weekly_message(quiet, config)["blocks"])
