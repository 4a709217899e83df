"""Breakdown charts' numbers: one csat / nps / ces / volume series per group, counted in SQL by local day and group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot import scores
from bot.charts.localtime import day_key, local_day
from bot.charts.model import BreakdownChart, GroupSeries, Scope
from bot.errors import InvalidInput
from bot.reports.breakdowns import BY_FIELDS, MAX_GROUPS, MIN_RESPONSES
from config.teams import Team
from storage.models import Feedback

BY_KINDS = ("csat", "nps", "ces", "volume")
NONE = "(none)"  # responses that carry no value of the field
OTHER = "other"
# The fields, the 8 groups (what a legend keeps apart at Slack's preview size) and the minimum n are the
# ones `stats … by=` uses, so a chart and a table of the same breakdown agree.
_COLUMNS = {name: getattr(Feedback, name) for name in BY_FIELDS}

Row = tuple[date, str, int, int, int]  # (local day, group, n, first sum, second sum)


def check_breakdown(kind: str, by: str | None) -> None:
    """Refuse a breakdown the charts cannot draw, saying what would work instead; `by` None is no breakdown."""
    if by is None:
        return
    if by not in BY_FIELDS:
        raise InvalidInput(
            f"I can't break a chart down by `{by}`. Use `by=` with one of "
            f"{_listed(BY_FIELDS)}, e.g. `chart csat all 30d by=segment`.",
            field="by",
        )
    if kind not in BY_KINDS:
        raise InvalidInput(
            f"The {kind} chart has no breakdown: `by=` works with the {_listed(BY_KINDS)} charts. "
            f"Leave out `by={by}`, or ask for e.g. `chart csat all 30d by={by}`.",
            field="by",
        )


def breakdown_chart(
    s: Session,
    scope: Scope,
    teams: Sequence[Team],
    kind: str,
    by: str,
    days: list[date],
    *,
    min_n: int = MIN_RESPONSES,
) -> BreakdownChart | None:
    """The period's responses per local day and group, in one GROUP BY; None when there are none."""
    check_breakdown(kind, by)
    day = local_day(s, Feedback.submitted_at, ZoneInfo(scope.tz), scope.since, scope.until)
    group = _COLUMNS[by]
    sums: tuple[ColumnElement[int], ...] = {
        "csat": (scores.count_satisfied(),),
        "nps": (scores.count_promoters(), scores.count_detractors()),
        "ces": (func.sum(Feedback.score),),
        "volume": (),
    }[kind]
    metric = Feedback.metric.in_(scores.METRICS) if kind == "volume" else Feedback.metric == kind
    rows = s.execute(
        select(day, group, func.count(), *sums)
        .where(
            Feedback.team.in_([t.key for t in teams]),
            metric,
            Feedback.submitted_at >= scope.since,
            Feedback.submitted_at < scope.until,
        )
        .group_by(day, group)
    ).all()
    if not rows:
        return None
    return BreakdownChart(
        scope=scope,
        metric=kind,
        by=by,
        days=tuple(days),
        groups=fold([_row(*r) for r in rows], days, kind, min_n),
        min_n=min_n,
    )


def fold(
    rows: Iterable[Row], days: Sequence[date], kind: str, min_n: int
) -> tuple[GroupSeries, ...]:
    """The MAX_GROUPS groups with the most responses (ties by name) and, when more remain, "other" summing them.

    A missing or empty value is the group NONE, ranked like any other.
    """
    daily: defaultdict[str, dict[date, list[int]]] = defaultdict(dict)
    for day, name, n, a, b in rows:
        # NULL and '' both mean "not given"; two rows can land on one (day, NONE).
        sums = daily[name or NONE].setdefault(day, [0, 0, 0])
        sums[0], sums[1], sums[2] = sums[0] + n, sums[1] + a, sums[2] + b
    totals = {name: sum(x[0] for x in per_day.values()) for name, per_day in daily.items()}
    ranked = sorted(daily, key=lambda name: (-totals[name], name))
    if len(ranked) <= MAX_GROUPS:
        return tuple(_series(name, daily[name], days, kind, min_n) for name in ranked)
    shown, rest = ranked[:MAX_GROUPS], ranked[MAX_GROUPS:]
    other: dict[date, list[int]] = {}
    for name in rest:
        for day, (n, a, b) in daily[name].items():
            sums = other.setdefault(day, [0, 0, 0])
            sums[0], sums[1], sums[2] = sums[0] + n, sums[1] + a, sums[2] + b
    return (
        *(_series(name, daily[name], days, kind, min_n) for name in shown),
        _series(OTHER, other, days, kind, min_n, folded=len(rest)),
    )


def value(kind: str, n: int, a: int, b: int, min_n: int) -> float | None:
    """csat % satisfied, nps % promoters − % detractors, ces mean; None under min_n and for volume."""
    if kind == "volume" or n < min_n or n == 0:
        return None
    return {"csat": 100 * a / n, "nps": 100 * (a - b) / n, "ces": a / n}[kind]


def _row(day: str | date, name: str | None, n: int, *sums: int | None) -> Row:
    # volume selects no sums, csat and ces one, nps two: padded to the same shape.
    a, b = ([int(x or 0) for x in sums] + [0, 0])[:2]
    return day_key(day), name or NONE, int(n), a, b


def _series(
    name: str,
    per_day: dict[date, list[int]],
    days: Sequence[date],
    kind: str,
    min_n: int,
    *,
    folded: int = 0,
) -> GroupSeries:
    cells = [per_day.get(d, [0, 0, 0]) for d in days]
    n, a, b = (sum(x[i] for x in per_day.values()) for i in range(3))
    return GroupSeries(
        name=name,
        n=tuple(c[0] for c in cells),
        value=tuple(value(kind, *c, min_n) for c in cells),
        total=n,
        overall=value(kind, n, a, b, min_n),
        folded=folded,
    )


def _listed(names: Sequence[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
