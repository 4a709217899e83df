"""A chart's key numbers in words, posted with its image: what a screen reader says and what search finds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.charts.model import (
    BreakdownChart,
    ChartData,
    ControlChart,
    ParetoChart,
    Scope,
    SlaChart,
    TtrChart,
    VolumeChart,
)

RECENT = 7  # "now" is the last 7 days, compared with the 7 before them
NAMES = {"csat": "CSAT", "nps": "NPS", "ces": "CES"}


def describe(chart: ChartData) -> str:
    if isinstance(chart, BreakdownChart):
        return _breakdown(chart)
    if isinstance(chart, ControlChart):
        return _control(chart)
    if isinstance(chart, VolumeChart):
        return _volume(chart)
    if isinstance(chart, TtrChart):
        return _ttr(chart)
    if isinstance(chart, ParetoChart):
        return _pareto(chart)
    return _sla(chart)


def title(chart: ChartData) -> str:
    """The upload's title: what the chart is, for whom, over what."""
    if isinstance(chart, BreakdownChart):
        what = NAMES.get(chart.metric, "Volume")
        return f"{what} by {chart.by} — {chart.scope.title}, last {chart.scope.period}"
    what = {
        ControlChart: None,
        VolumeChart: "Volume",
        TtrChart: "Time to resolve",
        ParetoChart: "Root causes",
        SlaChart: "SLA compliance",
    }[type(chart)]
    if isinstance(chart, ControlChart):
        what = NAMES[chart.metric]
    return f"{what} — {chart.scope.title}, last {chart.scope.period}"


def no_data(kind: str, scope_title: str, period: str) -> str:
    """What a person who asked for a chart of an empty period is told instead."""
    what = {
        "csat": "CSAT responses",
        "nps": "NPS responses",
        "ces": "CES responses",
        "volume": "responses or cases",
        "ttr": "resolved cases",
        "pareto": "resolved cases",
        "sla": "SLA deadlines",
    }[kind]
    return (
        f":information_source: No {what} for {scope_title} in the last {period}, so there is no {kind} chart "
        "to draw. Try a longer period, e.g. `90d`."
    )


def _span(scope: Scope, days: Sequence[date] | None = None) -> str:
    first = days[0] if days else scope.since.date()
    last = days[-1] if days else scope.until.date()
    return f"last {scope.period} ({_day(first)} – {_day(last)} {last.year}, {scope.tz})"


def _control(c: ControlChart) -> str:
    name, n = NAMES[c.metric], sum(c.n)
    text = f"{name} of {c.scope.title}, {_span(c.scope, c.days)}: {_metric(c.metric, c.centre)} from {n:,} responses."
    recent, before = _window(c, len(c.days) - RECENT), _window(c, len(c.days) - 2 * RECENT)
    if recent is not None:
        text += f" Last {RECENT} days: {_metric(c.metric, recent[0])} (n {recent[1]:,})"
        if before is not None:
            text += f", {_change(c.metric, recent[0] - before[0])} on the {RECENT} days before ({_metric(c.metric, before[0])})"
        text += "."
    out = [
        (d, v is not None and v < c.centre)
        for d, v, o in zip(c.days, c.value, c.out_of_control)
        if o
    ]
    if out:
        listed = ", ".join(f"{_day(d)} ({'low' if low else 'high'})" for d, low in out[:8])
        more = f" and {len(out) - 8} more" if len(out) > 8 else ""
        text += f" {len(out)} day{'s' if len(out) != 1 else ''} out of control: {listed}{more}."
    else:
        text += " No day out of control."
    return text


def _window(c: ControlChart, start: int) -> tuple[float, int] | None:
    """The metric over RECENT days from index `start`, from the raw sums (not an average of daily values)."""
    if start < 0:
        return None
    sums, n = c.sums[start : start + RECENT], sum(c.n[start : start + RECENT])
    if n == 0:
        return None
    a, b = sum(x[0] for x in sums), sum(x[1] for x in sums)
    value = {"csat": 100 * a / n, "nps": 100 * (a - b) / n, "ces": a / n}[c.metric]
    return value, n


def _metric(metric: str, value: float) -> str:
    return {
        "csat": f"{value:.1f} % satisfied",
        "nps": f"NPS {value:+.0f}",
        "ces": f"mean effort {value:.2f}",
    }[metric]


def _change(metric: str, delta: float) -> str:
    unit = {"csat": " points", "nps": " points", "ces": ""}[metric]
    size = f"{abs(delta):.2f}" if metric == "ces" else f"{abs(delta):.1f}"
    if float(size) == 0:
        return "unchanged"
    return f"{'up' if delta > 0 else 'down'} {size}{unit}"


def _volume(c: VolumeChart) -> str:
    text = (
        f"Volume of {c.scope.title}, {_span(c.scope, c.days)}: {sum(c.responses):,} responses and "
        f"{sum(c.cases):,} cases opened."
    )
    if len(c.days) >= 2 * RECENT:
        r, rb = sum(c.responses[-RECENT:]), sum(c.responses[-2 * RECENT : -RECENT])
        k, kb = sum(c.cases[-RECENT:]), sum(c.cases[-2 * RECENT : -RECENT])
        text += (
            f" Last {RECENT} days: {r:,} responses ({_count_change(r, rb)}) and {k:,} cases "
            f"({_count_change(k, kb)})."
        )
    return text


def _breakdown(c: BreakdownChart) -> str:
    """Every group's figure over the period, largest first: at most 9, so the comment stays a paragraph."""
    name, total = NAMES.get(c.metric, "Volume"), sum(g.total for g in c.groups)
    groups = sum(1 for g in c.groups if not g.folded) + sum(g.folded for g in c.groups)
    text = (
        f"{name} by {c.by} of {c.scope.title}, {_span(c.scope, c.days)}: {total:,} responses in "
        f"{groups} group{'s' if groups != 1 else ''}. "
    )
    parts = []
    for g in c.groups:
        if c.metric == "volume":
            parts.append(f"{g.label} {g.total:,} ({100 * g.total / total:.0f} %)")
        elif g.overall is None:
            parts.append(f"{g.label}: n {g.total:,}, too few for a rate")
        else:
            parts.append(f"{g.label} {_metric(c.metric, g.overall)} (n {g.total:,})")
    text += "; ".join(parts) + "."
    if c.metric != "volume":
        text += f" A group's day with fewer than {c.min_n} responses shows no point."
    return text


def _count_change(now: int, before: int) -> str:
    if now == before:
        return f"as many as the {RECENT} days before"
    return f"{'up' if now > before else 'down'} from {before:,} the {RECENT} days before"


def _ttr(c: TtrChart) -> str:
    total = sum(b.n for b in c.boxes)
    parts = [
        f"{b.name}: median {_hours(b.median)}, middle half {_hours(b.q1)}–{_hours(b.q3)}, n {b.n:,}, "
        f"resolve SLA {_hours(b.sla_hours)}"
        for b in c.boxes
    ]
    return f"Time to resolve, {_span(c.scope)}, {total:,} cases resolved. " + "; ".join(parts) + "."


def _hours(h: float) -> str:
    return f"{h * 60:.0f} min" if h < 1 else f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def _pareto(c: ParetoChart) -> str:
    total = sum(c.counts)
    listed = ", ".join(
        f"{cause.replace('_', ' ')} {100 * n / total:.0f} % ({n:,})"
        for cause, n in zip(c.causes[:5], c.counts[:5])
    )
    top = next(i for i, p in enumerate(c.cumulative_percent) if p >= 80 - 1e-9) + 1
    return (
        f"Root causes of {total:,} cases resolved in the {_span(c.scope)}: {listed}. "
        f"The top {top} cause{'s' if top != 1 else ''} account for {c.cumulative_percent[top - 1]:.0f} %."
    )


def _sla(c: SlaChart) -> str:
    parts = []
    for t in c.teams:
        ack = _overall(t.ack_percent, t.ack_due)
        resolve = _overall(t.resolve_percent, t.resolve_due)
        parts.append(f"{t.name}: acknowledged in time {ack}, resolved in time {resolve}")
    return f"SLA compliance by week, {_span(c.scope)}. " + "; ".join(parts) + "."


def _overall(percent: Sequence[float | None], due: Sequence[int]) -> str:
    n = sum(due)
    if n == 0:
        return "(nothing due)"
    met = sum(p * d / 100 for p, d in zip(percent, due) if p is not None)
    return f"{100 * met / n:.0f} % of {n:,}"


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"
