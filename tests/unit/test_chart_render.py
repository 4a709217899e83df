"""The chart renderer: exact PNG size, labels that never overlap, gaps, flagged days and the given statistics drawn."""

from __future__ import annotations

import io
import math
import struct
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from bot.charts.model import (
    ChartData,
    ControlChart,
    ParetoChart,
    Scope,
    SlaChart,
    SlaSeries,
    TtrBox,
    TtrChart,
    VolumeChart,
)
from bot.charts.render import GID_OUT_OF_CONTROL, GID_VALUE, draw, render
from bot.charts.render_teams import GID_MEDIAN, GID_SLA

NONE_DAYS = (3, 4, 41, 88)
OUT_DAYS = (10, 33, 60)
START = date(2025, 8, 25)
# Generated names of realistic length; the longest is cut in vertical labels.
TEAM_NAMES = (
    "Delivery Ops",
    "Billing",
    "Returns EMEA",
    "Returns Americas",
    "Payments Risk",
    "Onboarding",
    "Partner Success",
    "Warehouse North",
    "Warehouse South",
    "Customer Care Tier 2",
    "Enterprise Accounts",
    "Mobile App",
    "Web Checkout",
    "Subscriptions",
    "Logistics APAC",
    "Fraud Review",
    "Gift Cards",
    "Marketplace Sellers",
    "Loyalty Programme",
    "International Shipping Escalations",
)


def scope(days: int, tz: str = "America/New_York") -> Scope:
    since = datetime(START.year, START.month, START.day, 4, tzinfo=UTC)
    return Scope(
        title="Delivery Ops",
        period=f"{days}d",
        since=since,
        until=since + timedelta(days=days),
        tz=tz,
    )


def control(metric: str = "csat", days: int = 90) -> ControlChart:
    """A noisy series around a centre, with NONE_DAYS empty and OUT_DAYS pushed past their limits."""
    rng = np.random.default_rng(7)
    centre, spread, low, high = {
        "csat": (85.0, 40.0, 0, 100),
        "nps": (30.0, 90.0, -100, 100),
        "ces": (3.2, 1.8, 1, 7),
    }[metric]
    n, value, lower, upper = [], [], [], []
    for i in range(days):
        if i in NONE_DAYS:
            n.append(0)
            value.append(None)
            lower.append(None)
            upper.append(None)
            continue
        count = int(rng.integers(5, 60))
        width = 3 * spread / math.sqrt(count)
        lo, hi = max(low, centre - width), min(high, centre + width)
        mid = centre + rng.normal(0, width / 4)
        if i in OUT_DAYS:
            mid = max(low, lo - width / 3)
        n.append(count)
        value.append(round(min(high, max(low, mid)), 2))
        lower.append(round(lo, 2))
        upper.append(round(hi, 2))
    return ControlChart(
        scope=scope(days),
        metric=metric,
        days=tuple(START + timedelta(days=i) for i in range(days)),
        n=tuple(n),
        value=tuple(value),
        centre=centre,
        lower=tuple(lower),
        upper=tuple(upper),
        out_of_control=tuple(i in OUT_DAYS for i in range(days)),
        sums=tuple((c, 0, 0) for c in n),
    )


def volume(days: int = 90) -> VolumeChart:
    rng = np.random.default_rng(3)
    responses = tuple(int(v) for v in rng.integers(0, 120, days))
    return VolumeChart(
        scope=scope(days),
        days=tuple(START + timedelta(days=i) for i in range(days)),
        responses=responses,
        cases=tuple(int(r // 9) for r in responses),
    )


def ttr(teams: int, spread: float = 1.0) -> TtrChart:
    boxes = []
    for i in range(teams):
        base = (2.0 + i) * spread ** (i / max(1, teams - 1))
        boxes.append(
            TtrBox(
                team=f"t{i}",
                name=TEAM_NAMES[i],
                n=10 + i,
                q1=base,
                median=base * 1.5,
                q3=base * 2.2,
                whisker_low=base * 0.5,
                whisker_high=base * 3.5,
                fliers=(base * 5, base * 6.5),
                sla_hours=24.0 * spread**0.5,
            )
        )
    return TtrChart(scope=scope(30), boxes=tuple(boxes))


def pareto() -> ParetoChart:
    causes = (
        "late_delivery",
        "wrong_item",
        "damaged_in_transit",
        "billing_error",
        "rude_agent",
        "app_crash",
        "other",
    )
    counts = (120, 64, 40, 22, 9, 5, 3)
    total = sum(counts)
    cumulative = tuple(round(100 * sum(counts[: i + 1]) / total, 2) for i in range(len(counts)))
    return ParetoChart(scope=scope(30), causes=causes, counts=counts, cumulative_percent=cumulative)


def sla(weeks: int = 13, teams: int = 3) -> SlaChart:
    rng = np.random.default_rng(5)
    series = []
    for t in range(teams):
        ack = [
            None if (w + t) % 6 == 0 else round(float(rng.uniform(60, 100)), 1)
            for w in range(weeks)
        ]
        resolve = [
            None if (w + t) % 5 == 0 else round(float(rng.uniform(40, 100)), 1)
            for w in range(weeks)
        ]
        series.append(
            SlaSeries(
                team=f"t{t}",
                name=TEAM_NAMES[t],
                ack_percent=tuple(ack),
                ack_due=tuple(0 if a is None else 8 for a in ack),
                resolve_percent=tuple(resolve),
                resolve_due=tuple(0 if r is None else 5 for r in resolve),
            )
        )
    return SlaChart(
        scope=scope(weeks * 7),
        weeks=tuple(START + timedelta(weeks=w) for w in range(weeks)),
        teams=tuple(series),
    )


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", png[16:24])


def find_line(fig: Figure, gid: str) -> Line2D:
    found = [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]
    assert len(found) == 1, f"expected one line with gid {gid!r}, found {len(found)}"
    return found[0]


def assert_tick_labels_apart(fig: Figure, ax: Axes, minimum: int = 3) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text().strip()]
    assert len(labels) >= minimum
    boxes = [label.get_window_extent(renderer) for label in labels]
    for (a, box_a), (b, box_b) in combinations(zip(labels, boxes), 2):
        assert not box_a.overlaps(box_b), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    for label, box in zip(labels, boxes):
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0, (
            f"{label.get_text()!r} is cut off"
        )


CHARTS = {
    "csat-90": lambda: control("csat"),
    "nps-90": lambda: control("nps"),
    "ces-90": lambda: control("ces"),
    "csat-730": lambda: control("csat", 730),
    "volume": volume,
    "ttr-3": lambda: ttr(3),
    "ttr-20": lambda: ttr(20),
    "pareto": pareto,
    "sla": sla,
}


@pytest.mark.parametrize("make", CHARTS.values(), ids=CHARTS.keys())
def test_renders_a_1200_by_675_png(make) -> None:
    png = render(make())
    assert png_size(png) == (1200, 675)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 675)
        # Not a blank canvas: a chart has plenty of distinct colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 20


@pytest.mark.parametrize("days", [90, 730])
def test_date_labels_do_not_overlap(days: int) -> None:
    fig = draw(control("csat", days))
    assert_tick_labels_apart(fig, fig.axes[0])


def test_twenty_team_names_do_not_overlap() -> None:
    fig = draw(ttr(20))
    assert_tick_labels_apart(fig, fig.axes[0], minimum=20)


def test_three_team_names_stay_horizontal() -> None:
    fig = draw(ttr(3))
    assert_tick_labels_apart(fig, fig.axes[0], minimum=3)
    assert {label.get_rotation() for label in fig.axes[0].get_xticklabels()} == {0.0}


def test_week_labels_do_not_overlap() -> None:
    fig = draw(sla(weeks=104, teams=20))
    assert_tick_labels_apart(fig, fig.axes[1])


@pytest.mark.parametrize("metric", ["csat", "nps", "ces"])
def test_out_of_control_days_are_marked(metric: str) -> None:
    data = control(metric)
    line = find_line(draw(data), GID_OUT_OF_CONTROL)
    assert list(line.get_xdata()) == [data.days[i] for i in OUT_DAYS]
    assert list(line.get_ydata()) == [data.value[i] for i in OUT_DAYS]
    assert line.get_label() == "out of control"


@pytest.mark.parametrize("days", [90, 730])
def test_days_without_responses_are_gaps(days: int) -> None:
    data = control("csat", days)
    y = np.asarray(find_line(draw(data), GID_VALUE).get_ydata(), dtype=float)
    assert len(y) == days
    assert [i for i in range(days) if math.isnan(y[i])] == list(NONE_DAYS)
    assert y[0] == data.value[0]


def test_title_names_scope_period_and_zone() -> None:
    fig = draw(control("nps"))
    title = fig.get_suptitle()
    assert title.startswith("NPS — ") and "Delivery Ops" in title and "90d" in title
    assert "America/New_York" in fig.axes[0].get_xlabel()


def test_ttr_boxes_use_the_given_statistics() -> None:
    data = ttr(3)
    fig = draw(data)
    ax = fig.axes[0]
    medians = [line for line in ax.get_lines() if line.get_gid() == GID_MEDIAN]
    assert [tuple(line.get_ydata()) for line in medians] == [
        (box.median, box.median) for box in data.boxes
    ]
    boxes = [patch for patch in ax.patches if patch.get_gid() == "box"]
    spans = [
        (patch.get_path().vertices[:, 1].min(), patch.get_path().vertices[:, 1].max())
        for patch in boxes
    ]
    assert spans == [(box.q1, box.q3) for box in data.boxes]
    whisker_ends = {float(y) for line in ax.get_lines() for y in line.get_ydata()}
    assert all(
        box.whisker_low in whisker_ends and box.whisker_high in whisker_ends for box in data.boxes
    )
    sla_lines = [c for c in ax.collections if c.get_gid() == GID_SLA]
    assert len(sla_lines) == 1 and sla_lines[0].get_label() == "resolve SLA"
    assert [seg[0][1] for seg in sla_lines[0].get_segments()] == [
        box.sla_hours for box in data.boxes
    ]
    assert ax.get_yscale() == "linear"


def test_ttr_switches_to_log_scale_for_a_wide_spread() -> None:
    assert draw(ttr(5, spread=200.0)).axes[0].get_yscale() == "log"


def test_pareto_secondary_axis_ends_at_100_with_an_80_line() -> None:
    data = pareto()
    fig = draw(data)
    share = fig.axes[1]
    assert share.get_ylim() == (0.0, 100.0)
    assert any(list(line.get_ydata()) == [80, 80] for line in share.get_lines())
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][0].replace(
        "\n", " "
    ) == "late delivery"
    bars = [patch.get_height() for patch in fig.axes[0].patches]
    assert bars == list(data.counts)


def test_sla_weeks_without_deadlines_are_gaps() -> None:
    data = sla()
    fig = draw(data)
    ack, resolve = fig.axes[0], fig.axes[1]
    for ax, field in ((ack, "ack_percent"), (resolve, "resolve_percent")):
        for line, team in zip(ax.get_lines(), data.teams):
            expected = [math.nan if v is None else v for v in getattr(team, field)]
            np.testing.assert_array_equal(np.asarray(line.get_ydata(), dtype=float), expected)
        assert ax.get_ylim() == (0.0, 100.0)
    assert [t.get_text() for t in resolve.get_xticklabels()][0] == "Aug 25\n2025"


def test_a_single_day_of_data_still_renders() -> None:
    full = control("ces", 30)
    keep = 12
    data = ControlChart(
        scope=full.scope,
        metric="ces",
        days=full.days,
        n=tuple(c if i == keep else 0 for i, c in enumerate(full.n)),
        value=tuple(v if i == keep else None for i, v in enumerate(full.value)),
        centre=full.value[keep] or 3.0,
        lower=tuple(v if i == keep else None for i, v in enumerate(full.lower)),
        upper=tuple(v if i == keep else None for i, v in enumerate(full.upper)),
        out_of_control=(False,) * 30,
        sums=full.sums,
    )
    assert png_size(render(data)) == (1200, 675)
    billing = SlaSeries("t", "Billing", (None,), (0,), (75.0,), (4,))
    one_week = SlaChart(scope=scope(7), weeks=(START,), teams=(billing,))
    assert png_size(render(one_week)) == (1200, 675)


def test_rejects_unknown_data() -> None:
    bogus: ChartData = object()  # type: ignore[assignment]
    with pytest.raises(TypeError):
        draw(bogus)
