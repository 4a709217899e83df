"""Control charts mark each day that breaks a Western Electric rule with the rule's number, judged against
the period's own limits; checked on the numbers and on the artists the renderer draws."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from matplotlib.dates import date2num
from PIL import Image

from bot.charts import control
from bot.charts.model import ControlChart, Scope
from bot.charts.render import GID_RULE, draw, render

START = date(2026, 2, 2)


def csat_series() -> tuple[list[tuple[int, int, int]], list[int]]:
    """30 days of 100 responses, 81 % and 79 % in turn (centre ≈ 80, σ ≈ 4): day 5 at 100 % (rule 1 above),
    days 20-27 at 77 % after an 81 % day (8 in a row below: rule 4 on day 27)."""
    satisfied = [81 if i % 2 == 0 else 79 for i in range(30)]
    satisfied[5] = 100
    satisfied[19] = 81
    satisfied[20:28] = [77] * 8
    return [(k, 0, 0) for k in satisfied], [100] * 30


def ces_series() -> tuple[list[tuple[int, int, int]], list[int]]:
    """20 days of 4 scores: 2,2,3,3 (mean 2.5) and 2,3,3,3 (2.75) in turn, and 3,3,4,4 (3.5) on days 10 and
    12: centre 2.725, pooled σ √(17.5/60), so 3.5 is 2.87σ above: 2 of 3 beyond 2σ on day 12 (rule 2)."""
    days = [(10, 26, 0) if i % 2 == 0 else (11, 31, 0) for i in range(20)]
    days[10] = days[12] = (14, 50, 0)
    return days, [4] * 20


def chart(metric: str, sums: list[tuple[int, int, int]], n: list[int]) -> ControlChart:
    limits = control.limits(metric, sums, n)
    since = datetime(2026, 2, 2, tzinfo=UTC)
    return ControlChart(
        scope=Scope("Delivery Ops", f"{len(n)}d", since, since + timedelta(days=len(n)), "UTC"),
        metric=metric,
        days=tuple(START + timedelta(days=i) for i in range(len(n))),
        n=tuple(n),
        value=limits.value,
        centre=limits.centre,
        lower=limits.lower,
        upper=limits.upper,
        out_of_control=limits.out_of_control,
        sums=tuple(sums),
    )


def test_each_rule_marks_the_day_that_completes_it() -> None:
    marks = control.rule_marks("csat", *csat_series())
    assert {i: m for i, m in enumerate(marks) if m} == {5: (1,), 27: (4,)}
    marks = control.rule_marks("ces", *ces_series())
    assert {i: m for i, m in enumerate(marks) if m} == {12: (2,)}


def test_a_day_without_responses_breaks_the_run() -> None:
    sums, n = csat_series()
    sums[23], n[23] = (0, 0, 0), 0
    assert {i: m for i, m in enumerate(control.rule_marks("csat", sums, n)) if m} == {5: (1,)}


def test_a_period_without_variation_marks_nothing() -> None:
    assert control.rule_marks("csat", [(10, 0, 0)] * 12, [10] * 12) == ((),) * 12


def test_the_renderer_writes_the_numbers_next_to_the_days_it_draws() -> None:
    data = chart("csat", *csat_series())
    fig = draw(data)
    notes = [t for ax in fig.axes for t in ax.texts if t.get_gid() == GID_RULE]
    assert [(t.get_text(), t.xy) for t in notes] == [
        ("1", (date2num(data.days[5]), data.value[5])),
        ("4", (date2num(data.days[27]), data.value[27])),
    ]
    # Above the day over the centre line, below the one under it.
    assert [t.get_position()[1] > 0 for t in notes] == [True, False]
    assert any("rule broken" in line.get_label() for ax in fig.axes for line in ax.get_lines())


def test_a_chart_with_marks_renders_to_a_png() -> None:
    png = render(chart("ces", *ces_series()))
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 675)
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 20
