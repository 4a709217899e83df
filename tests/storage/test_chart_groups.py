"""Breakdown charts' numbers on a real database against hand counts: 10 groups fold into 8 and "other"."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from bot.charts import groups
from bot.charts.describe import describe, title
from bot.charts.localtime import period_bounds
from bot.charts.model import BreakdownChart, Scope
from bot.charts.request import ChartRequest
from bot.charts.service import Charts
from bot.errors import InvalidInput
from storage.models import Feedback, OutboxMessage

_ids = itertools.count(1)
# delivery is in America/New_York, where summer time began on 2026-03-08 at 02:00 (07:00 UTC).
U = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
DAYS = tuple(date(2026, 3, d) for d in range(6, 11))
RANKED = ("vip", "(none)", "g1", "g2", "g3", "g4", "alpha", "zeta", "other")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add(
    sessions,  # noqa: ANN001
    value: str | None,
    scores: Sequence[int],
    at: datetime,
    *,
    metric: str = "csat",
    team: str = "delivery",
    by: str = "segment",
) -> None:
    with sessions.begin() as s:
        s.execute(
            insert(Feedback),
            [
                {
                    "source": "test",
                    "external_id": f"g-{next(_ids)}",
                    "team": team,
                    "metric": metric,
                    "score": score,
                    "submitted_at": at,
                    "received_at": at,
                    by: value,
                }
                for score in scores
            ],
        )


def ten_segments(sessions) -> None:  # noqa: ANN001
    """csat of 10 segments over 6–10 March (New York days); the days are noted as New York sees them."""
    add(sessions, "vip", [5] * 9 + [2] * 3, utc(2026, 3, 6, 5))  # midnight EST: 6 March, 9 of 12
    add(sessions, "vip", [5, 5, 1], utc(2026, 3, 7, 12))  # 7 March
    add(sessions, None, [1], utc(2026, 3, 8, 4, 30))  # 23:30 EST on 7 March
    add(sessions, None, [4] * 10, utc(2026, 3, 9, 3, 59))  # 23:59 EDT on 8 March
    add(sessions, "", [5], utc(2026, 3, 10, 4))  # an empty segment is no segment: 10 March
    add(sessions, "g1", [5, 4, 4, 1, 1, 1, 1, 1, 1], utc(2026, 3, 10, 4))
    for name, size in (("g2", 8), ("g3", 7), ("g4", 6), ("zeta", 5), ("alpha", 5)):
        add(sessions, name, [5] * size, utc(2026, 3, 9, 12))
    add(sessions, "g7", [5, 5, 5], utc(2026, 3, 6, 12))
    add(sessions, "g8", [1, 1], utc(2026, 3, 6, 12))
    # Not in delivery's csat chart: before the period, at its end, another team, other metrics.
    add(sessions, "vip", [5], utc(2026, 3, 6, 4, 59, 59))  # 23:59:59 EST on 5 March
    add(sessions, "vip", [1], U)
    add(sessions, "g9", [1], utc(2026, 3, 9, 12), team="support")
    add(sessions, "vip", [9, 3], utc(2026, 3, 9, 12), metric="nps")
    add(sessions, "vip", [2, 5], utc(2026, 3, 9, 12), metric="ces")


def request(kind: str = "csat", by: str | None = "segment", **kw: object) -> ChartRequest:
    fields = {"teams": ("delivery",), "all_teams": False, "days": 5, "period": "5d", "until": U}
    fields.update(kw)
    return ChartRequest(kind=kind, by=by, **fields)  # type: ignore[arg-type]


def direct(sessions, config, kind: str, min_n: int, by: str = "segment") -> BreakdownChart:  # noqa: ANN001
    """The query itself, with a small min_n so the small groups get rates too."""
    team = config.teams["delivery"]
    since, days = period_bounds(team.tz, 5, U)
    scope = Scope("Delivery Ops", "5d", since, U, team.timezone)
    with sessions.begin() as s:
        chart = groups.breakdown_chart(s, scope, [team], kind, by, days, min_n=min_n)
    assert chart is not None
    return chart


def test_ten_segments_fold_into_eight_and_other(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    chart = Charts(sessions, sessions, config).build(request())
    assert isinstance(chart, BreakdownChart)
    assert (chart.metric, chart.by, chart.min_n, chart.days) == ("csat", "segment", 10, DAYS)
    # Largest first; alpha and zeta tie at 5 and go by name; g7 (3) and g8 (2) are "other".
    assert tuple(g.name for g in chart.groups) == RANKED
    by_name = {g.name: g for g in chart.groups}
    vip, none, g1, other = by_name["vip"], by_name["(none)"], by_name["g1"], by_name["other"]
    assert (vip.n, vip.total) == ((12, 3, 0, 0, 0), 15)
    assert vip.value == (75.0, None, None, None, None)  # 7 March: 3 responses, under 10
    assert vip.overall == pytest.approx(100 * 11 / 15)
    # NULL and '' together; 23:30 EST and 23:59 EDT stay on the New York day they happened.
    assert (none.n, none.total) == ((0, 1, 10, 0, 1), 12)
    assert none.value == (None, None, 100.0, None, None)
    assert none.overall == pytest.approx(100 * 11 / 12)
    assert (g1.n, g1.total, g1.overall) == ((0, 0, 0, 0, 9), 9, None)  # shows its n, no rate
    assert (other.n, other.total, other.folded, other.overall) == ((5, 0, 0, 0, 0), 5, 2, None)
    assert [g.folded for g in chart.groups[:-1]] == [0] * 8
    assert (other.label, vip.label) == ("other (2 groups)", "vip")
    assert sum(g.total for g in chart.groups) == 15 + 12 + 9 + 8 + 7 + 6 + 5 + 5 + 5


def test_rates_of_small_groups_and_other_with_a_lower_min_n(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    by_name = {g.name: g for g in direct(sessions, config, "csat", min_n=2).groups}
    assert by_name["vip"].value[1] == pytest.approx(200 / 3)
    assert by_name["(none)"].value == (None, None, 100.0, None, None)  # n 1 on 7 and 10 March
    assert by_name["g1"].overall == pytest.approx(100 * 3 / 9)
    assert by_name["other"].value[0] == pytest.approx(60.0)  # g7's 3 satisfied of g7 + g8's 5
    assert by_name["other"].overall == pytest.approx(60.0)


def test_nps_and_ces_by_group(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    add(sessions, "smb", [10, 10, 10, 0], utc(2026, 3, 9, 12), metric="nps")
    nps = direct(sessions, config, "nps", min_n=2)
    assert [g.name for g in nps.groups] == ["smb", "vip"]
    assert nps.groups[0].value[3] == pytest.approx(50.0) and nps.groups[0].n[3] == 4
    assert nps.groups[1].value[3] == pytest.approx(0.0)  # one promoter, one detractor
    ces = direct(sessions, config, "ces", min_n=2)
    assert [(g.name, g.n[3], g.value[3]) for g in ces.groups] == [("vip", 2, 3.5)]


def test_volume_by_group_counts_every_metric(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    chart = Charts(sessions, sessions, config).build(request("volume"))
    assert isinstance(chart, BreakdownChart)
    assert tuple(g.name for g in chart.groups) == RANKED
    vip = chart.groups[0]
    assert (vip.n, vip.total) == ((12, 3, 0, 4, 0), 19)  # csat, plus nps 2 and ces 2 on 9 March
    assert all(v is None for g in chart.groups for v in g.value)
    assert all(g.overall is None for g in chart.groups)


def test_all_teams_count_by_utc_day(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    chart = Charts(sessions, sessions, config).build(
        request(teams=("delivery", "support"), all_teams=True)
    )
    assert chart.scope.tz == "UTC"
    by_name = {g.name: g for g in chart.groups}
    assert by_name["vip"].n == (13, 3, 0, 0, 0)  # 04:59:59 UTC on 6 March is in now
    assert by_name["(none)"].n == (0, 0, 1, 10, 1)
    assert (by_name["other"].folded, by_name["other"].total) == (3, 6)  # g7, g8 and support's g9


@pytest.mark.parametrize("by", ["touchpoint", "channel", "category"])
def test_each_field_groups_by_its_own_column(sessions, config, by: str) -> None:  # noqa: ANN001
    add(sessions, "web", [5, 4], utc(2026, 3, 9, 12), by=by)
    add(sessions, "phone", [1], utc(2026, 3, 9, 12), by=by)
    add(sessions, "vip", [5], utc(2026, 3, 9, 12), by="segment")  # no value of `by`
    chart = direct(sessions, config, "csat", min_n=1, by=by)
    assert [(g.name, g.total, g.overall) for g in chart.groups] == [
        ("web", 2, 100.0),
        ("(none)", 1, 100.0),
        ("phone", 1, 0.0),
    ]


def test_an_empty_period_is_no_chart(sessions, config) -> None:  # noqa: ANN001
    add(sessions, "vip", [5], utc(2026, 3, 1, 12))
    assert Charts(sessions, sessions, config).build(request()) is None


@pytest.mark.parametrize(
    ("kind", "by", "named"),
    [
        ("ttr", "segment", "`volume`"),
        ("pareto", "channel", "`nps`"),
        ("csat", "customer", "`touchpoint`"),
    ],
)
def test_a_breakdown_it_cannot_draw_is_refused_before_it_is_queued(
    sessions,
    config,
    kind: str,
    by: str,
    named: str,  # noqa: ANN001
) -> None:
    with pytest.raises(InvalidInput) as refused:
        Charts(sessions, sessions, config).request(request(kind, by), channel="C0DELIVERY")
    assert named in refused.value.message and refused.value.field == "by"
    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_breakdown_travels_through_the_outbox(sessions, config) -> None:  # noqa: ANN001
    req = request("volume", "channel")
    Charts(sessions, sessions, config).request(req, channel="C0DELIVERY", key="chart:by")
    with sessions.begin() as s:
        payload = s.scalar(select(OutboxMessage.payload).where(OutboxMessage.key == "chart:by"))
    assert payload["by"] == "channel" and ChartRequest.from_payload(payload) == req
    assert "by" not in request(by=None).payload()  # a plain chart's payload is as before


def test_title_and_description_name_the_breakdown(sessions, config) -> None:  # noqa: ANN001
    ten_segments(sessions)
    chart = Charts(sessions, sessions, config).build(request())
    assert title(chart) == "CSAT by segment — Delivery Ops, last 5d"
    text = describe(chart)
    assert text.startswith("CSAT by segment of Delivery Ops, last 5d (6 Mar – 10 Mar 2026")
    assert "72 responses in 10 groups" in text
    assert "vip 73.3 % satisfied (n 15)" in text
    assert "g1: n 9, too few for a rate" in text
    assert "other (2 groups): n 5, too few for a rate" in text
    assert "fewer than 10 responses" in text
    volume = describe(Charts(sessions, sessions, config).build(request("volume")))
    assert volume.startswith("Volume by segment") and "vip 19 (25 %)" in volume
