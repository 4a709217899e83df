"""Each chart's numbers on a real database against hand counts: local days across DST, gaps, boxes, Pareto, weekly SLA."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cases.lifecycle import Cases
from bot.charts.model import ControlChart, ParetoChart, SlaChart, TtrChart, VolumeChart
from bot.charts.request import CHART_KIND, ChartRequest
from bot.charts.service import Charts
from bot.errors import NotFound
from storage.models import OutboxMessage
from tests.storage.test_digest import feedback, open_case

H, MIN, DAY = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
LEADER = "U0LEADER1"
# delivery is in America/New_York, where summer time began on 2026-03-08 at 02:00 (07:00 UTC).
U = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 13:00 EDT on 10 March


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def request(
    kind: str,
    days: int = 5,
    until: datetime = U,
    teams: tuple[str, ...] = ("delivery",),
    all_teams: bool = False,
) -> ChartRequest:
    return ChartRequest(
        kind=kind, teams=teams, all_teams=all_teams, days=days, period=f"{days}d", until=until
    )


def csat_days(sessions) -> None:  # noqa: ANN001
    f = lambda score, at: feedback(sessions, "csat", score, at)  # noqa: E731
    f(5, utc(2026, 3, 6, 4, 59, 59))  # 23:59:59 EST on 5 March: before the period
    for score in (5, 4, 2):
        f(score, utc(2026, 3, 6, 5))  # midnight EST: 6 March
    f(1, utc(2026, 3, 7, 12))  # 7 March
    f(5, utc(2026, 3, 8, 4, 30))  # 23:30 EST on 7 March (UTC already says the 8th)
    f(4, utc(2026, 3, 8, 7, 30))  # 03:30 EDT on 8 March, after the clocks went forward
    f(4, utc(2026, 3, 9, 3, 59))  # 23:59 EDT on 8 March
    # 9 March: nothing
    for score in (1, 2, 3, 4):
        f(score, utc(2026, 3, 10, 4))  # midnight EDT: 10 March
    f(5, U)  # at `until`: not in the period
    feedback(sessions, "csat", 1, utc(2026, 3, 9, 12), team="support")  # another team


def test_csat_per_local_day_with_a_gap(sessions, config) -> None:  # noqa: ANN001
    csat_days(sessions)
    chart = Charts(sessions, sessions, config).build(request("csat"))
    assert isinstance(chart, ControlChart)
    assert chart.scope.tz == "America/New_York"
    assert chart.scope.since == utc(
        2026, 3, 6, 5
    )  # local midnight starting the first of the 5 days
    assert chart.days == tuple(date(2026, 3, d) for d in range(6, 11))
    assert chart.n == (3, 2, 2, 0, 4)
    assert chart.value[3] is None  # 9 March: a gap, not a zero
    assert chart.value[:3] == pytest.approx((200 / 3, 50.0, 100.0))
    assert chart.value[4] == pytest.approx(25.0)
    assert chart.sums == ((2, 0, 0), (1, 0, 0), (2, 0, 0), (0, 0, 0), (1, 0, 0))
    p = 6 / 11
    assert chart.centre == pytest.approx(100 * p)
    assert chart.upper[4] == pytest.approx(min(100, 100 * (p + 3 * math.sqrt(p * (1 - p) / 4))))
    assert chart.lower[4] == pytest.approx(max(0, 100 * (p - 3 * math.sqrt(p * (1 - p) / 4))))
    assert chart.lower[3] is None and chart.upper[3] is None


def test_all_teams_count_by_utc_day(sessions, config) -> None:  # noqa: ANN001
    csat_days(sessions)
    chart = Charts(sessions, sessions, config).build(
        request("csat", all_teams=True, teams=("delivery", "support"))
    )
    assert chart.scope.tz == "UTC" and chart.scope.title == "All teams"
    assert chart.days == tuple(date(2026, 3, d) for d in range(6, 11))
    # UTC days: 6th: 3 (the one at 04:59:59 is in too); 7th: 1; 8th: 2; 9th: 1 + support's 1; 10th: 4
    assert chart.n == (4, 1, 2, 2, 4)


def test_nps_and_ces_series(sessions, config) -> None:  # noqa: ANN001
    for score in (10, 9, 3):
        feedback(sessions, "nps", score, utc(2026, 3, 6, 12))
    for score in (7, 8):
        feedback(sessions, "nps", score, utc(2026, 3, 10, 12))
    for score in (1, 2, 3):
        feedback(sessions, "ces", score, utc(2026, 3, 7, 12))
    for score in (5, 7):
        feedback(sessions, "ces", score, utc(2026, 3, 8, 12))
    charts = Charts(sessions, sessions, config)
    nps = charts.build(request("nps"))
    assert nps.n == (3, 0, 0, 0, 2)
    assert nps.value[0] == pytest.approx(100 / 3) and nps.value[4] == pytest.approx(0.0)
    assert nps.sums[0] == (2, 1, 0)
    up, down = 2 / 5, 1 / 5  # of the period's 5 responses, 2 promoters and 1 detractor
    assert nps.centre == pytest.approx(100 * (up - down))
    variance = (up + down) - (up - down) ** 2
    assert nps.upper[0] == pytest.approx(
        min(100, 100 * (up - down) + 300 * math.sqrt(variance / 3))
    )
    ces = charts.build(request("ces"))
    assert ces.n == (0, 3, 2, 0, 0)
    assert ces.value[1:3] == pytest.approx((2.0, 6.0))
    assert ces.sums[1:3] == ((6, 14, 0), (12, 74, 0))
    assert ces.centre == pytest.approx(3.6)
    assert ces.lower[1] == pytest.approx(3.6 - 3 * math.sqrt(4 / 3) / math.sqrt(3))


def test_volume_counts_responses_and_cases(sessions, config) -> None:  # noqa: ANN001
    csat_days(sessions)
    feedback(sessions, "nps", 9, utc(2026, 3, 9, 12))
    open_case(sessions, utc(2026, 3, 7, 4, 59))  # 23:59 EST on 6 March
    open_case(sessions, utc(2026, 3, 10, 4))
    open_case(sessions, utc(2026, 3, 10, 16))
    open_case(sessions, utc(2026, 3, 10, 12), team="support")
    chart = Charts(sessions, sessions, config).build(request("volume"))
    assert isinstance(chart, VolumeChart)
    assert chart.responses == (3, 2, 2, 1, 4)
    assert chart.cases == (1, 0, 0, 0, 2)


def resolved(cases: Cases, case_id: int, at: datetime, cause: str = "other") -> None:
    cases.resolve(
        case_id,
        outcome="fixed",
        root_cause=cause,
        action="Called back",
        actor=LEADER,
        source="modal",
        now=at,
    )


def test_ttr_boxes_use_linear_quartiles(sessions, config) -> None:  # noqa: ANN001
    cases = Cases(sessions, config)
    start = U - 3 * DAY
    for hours in (1, 2, 3, 4, 100):  # q1 2, median 3, q3 4; fences −1 and 7: 100 is a flier
        resolved(cases, open_case(sessions, start - hours * H), start)
    for hours in (5, 7):
        resolved(cases, open_case(sessions, start - hours * H, team="support"), start)
    resolved(cases, open_case(sessions, U - 30 * DAY), U - 20 * DAY)  # resolved before the period
    chart = Charts(sessions, sessions, config).build(
        request("ttr", all_teams=True, teams=("delivery", "support"))
    )
    assert isinstance(chart, TtrChart)
    delivery, support = chart.boxes
    assert (delivery.n, delivery.q1, delivery.median, delivery.q3) == (5, 2.0, 3.0, 4.0)
    assert (delivery.whisker_low, delivery.whisker_high, delivery.fliers) == (1.0, 4.0, (100.0,))
    assert delivery.sla_hours == 24.0  # delivery's resolve SLA, 1d
    assert (support.n, support.q1, support.median, support.q3) == (2, 5.5, 6.0, 6.5)
    assert support.sla_hours == 48.0


def test_pareto_counts_standing_resolutions(sessions, config) -> None:  # noqa: ANN001
    cases = Cases(sessions, config)
    at = U - 2 * DAY
    for cause in (
        "late_delivery",
        "late_delivery",
        "app_error",
        "app_error",
        "rude_staff",
        "late_delivery",
    ):
        resolved(cases, open_case(sessions, at - H), at, cause)
    reopened = open_case(sessions, at - H)
    resolved(cases, reopened, at, "app_error")
    cases.reopen(
        reopened, "customer called again", actor=LEADER, source="command", now=at + H
    )  # not resolved now
    again = open_case(sessions, at - H)
    resolved(cases, again, at, "other")
    cases.reopen(again, "not fixed", actor=LEADER, source="command", now=at + H)
    resolved(cases, again, at + 2 * H, "late_delivery")  # counts once, by its last resolution
    duplicate = open_case(sessions, at - H)
    cases.resolve(
        duplicate, outcome="duplicate", root_cause="rude_staff", action="Same as FB-1",
        actor=LEADER, source="command", now=at,
    )  # fmt: skip  # a duplicate counts in no root-cause figure (SPEC §8)
    ttr = Charts(sessions, sessions, config).build(request("ttr"))
    assert sum(box.n for box in ttr.boxes) == 7  # nor in TTR
    chart = Charts(sessions, sessions, config).build(request("pareto"))
    assert isinstance(chart, ParetoChart)
    assert chart.causes == ("late_delivery", "app_error", "rude_staff")
    assert chart.counts == (4, 2, 1)
    assert chart.cumulative_percent == pytest.approx((400 / 7, 600 / 7, 100.0))


def test_sla_compliance_per_local_week(sessions, config) -> None:  # noqa: ANN001
    # support: UTC, ack 30m, resolve 2d. Until Wednesday 18 March; 14 days from Thursday 5 March.
    until = utc(2026, 3, 18, 12)
    cases = Cases(sessions, config)
    c1 = open_case(sessions, utc(2026, 3, 10, 10), team="support")
    cases.acknowledge(c1, actor=LEADER, source="button", now=utc(2026, 3, 10, 10, 20))  # met
    resolved(cases, c1, utc(2026, 3, 11, 10))  # met (due 12 March)
    open_case(
        sessions, utc(2026, 3, 10, 11), team="support"
    )  # never acknowledged: both missed, week of 9 March
    c3 = open_case(
        sessions, utc(2026, 3, 15, 23, 50), team="support"
    )  # Sunday night: due Monday 16 March
    cases.acknowledge(c3, actor=LEADER, source="button", now=utc(2026, 3, 16, 0, 10))  # met
    resolved(cases, c3, utc(2026, 3, 18, 1))  # due 17 March 23:50: missed
    c4 = open_case(
        sessions, utc(2026, 3, 3, 12), team="support"
    )  # ack due before the period: not counted
    resolved(
        cases, c4, utc(2026, 3, 4)
    )  # resolve due 5 March 12:00, in the period's first week: met
    chart = Charts(sessions, sessions, config).build(
        request("sla", days=14, until=until, teams=("support",))
    )
    assert isinstance(chart, SlaChart)
    assert chart.weeks == (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16))
    (support,) = chart.teams
    assert support.ack_due == (0, 2, 1) and support.ack_percent == (None, 50.0, 100.0)
    assert support.resolve_due == (1, 2, 1) and support.resolve_percent == (100.0, 50.0, 0.0)


def test_nothing_to_draw_is_none(sessions, config) -> None:  # noqa: ANN001
    charts = Charts(sessions, sessions, config)
    feedback(sessions, "csat", 5, U - 40 * DAY)
    for kind in ("csat", "nps", "ces", "volume", "ttr", "pareto", "sla"):
        assert charts.build(request(kind)) is None, kind


def test_a_request_is_queued_once_per_key(sessions, config) -> None:  # noqa: ANN001
    charts = Charts(sessions, sessions, config)
    req = ChartRequest(
        kind="csat", teams=("delivery",), all_teams=False, days=30, period="30d", until=U, user="U1"
    )
    charts.request(req, channel="C0DELIVERY", key="chart:T1")
    charts.request(req, channel="C0DELIVERY", key="chart:T1")
    with sessions.begin() as s:
        rows = s.execute(
            select(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.payload)
        ).all()
    assert len(rows) == 1
    kind, channel, payload = rows[0]
    assert (kind, channel) == (CHART_KIND, "C0DELIVERY")
    assert ChartRequest.from_payload(payload) == req
    with pytest.raises(NotFound):
        charts.request(ChartRequest("csat", ("nope",), False, 30, "30d", U), channel="C0DELIVERY")
