"""The numbers behind each chart kind, counted in SQL by local day or week; Python gets only the aggregated rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import scores
from bot.charts import control
from bot.charts.localtime import day_key, local_day, monday
from bot.charts.model import (
    ControlChart,
    ParetoChart,
    Scope,
    SlaChart,
    SlaSeries,
    TtrBox,
    TtrChart,
    VolumeChart,
)
from bot.reports.queries import resolutions, standing_resolutions
from bot.reports.weekly import Compliance, sla_compliance_by
from config.teams import Team
from storage.models import Case, CaseEvent, Feedback

METRICS = ("csat", "nps", "ces")
WHISKER = 1.5  # Tukey's fences, as matplotlib's boxplot draws them by default
NOTHING_DUE = (Compliance(), Compliance())


def control_chart(
    s: Session, scope: Scope, teams: Sequence[Team], metric: str, days: list[date]
) -> ControlChart | None:
    """One metric per local day; None when the period has no response of it."""
    tz = ZoneInfo(scope.tz)
    day = local_day(s, Feedback.submitted_at, tz, scope.since, scope.until)
    score = Feedback.score
    sums = {
        "csat": (scores.count_satisfied(), func.sum(0), func.sum(0)),
        "nps": (scores.count_promoters(), scores.count_detractors(), func.sum(0)),
        "ces": (func.sum(score), func.sum(score * score), func.sum(0)),
    }[metric]
    # (team, metric, submitted_at, score) holds every column read: an index-only range per team.
    rows = s.execute(
        select(day, func.count(), *sums)
        .where(
            Feedback.team.in_([t.key for t in teams]),
            Feedback.metric == metric,
            Feedback.submitted_at >= scope.since,
            Feedback.submitted_at < scope.until,
        )
        .group_by(day)
    ).all()
    found = {day_key(d): (n, (int(a), int(b), int(c))) for d, n, a, b, c in rows}
    if not found:
        return None
    n = [found.get(d, (0, (0, 0, 0)))[0] for d in days]
    daily = [found.get(d, (0, (0, 0, 0)))[1] for d in days]
    first, second = [x[0] for x in daily], [x[1] for x in daily]
    limits = {
        "csat": lambda: control.p_chart(first, n),
        "nps": lambda: control.nps_chart(first, second, n),
        "ces": lambda: control.xbar_chart(first, second, n),
    }[metric]()
    return ControlChart(
        scope=scope,
        metric=metric,
        days=tuple(days),
        n=tuple(n),
        value=limits.value,
        centre=limits.centre,
        lower=limits.lower,
        upper=limits.upper,
        out_of_control=limits.out_of_control,
        sums=tuple(daily),
    )


def volume_chart(
    s: Session, scope: Scope, teams: Sequence[Team], days: list[date]
) -> VolumeChart | None:
    """Responses and cases opened per local day; None when there were neither."""
    tz = ZoneInfo(scope.tz)
    keys = [t.key for t in teams]
    response_day = local_day(s, Feedback.submitted_at, tz, scope.since, scope.until)
    responses = dict(
        s.execute(
            # Naming the metrics (all there are) lets the range run over the covering (team, metric, submitted_at, score)
            # index; on (submitted_at) alone every row of the period was fetched from the table for its team.
            select(response_day, func.count())
            .where(
                Feedback.team.in_(keys),
                Feedback.metric.in_(METRICS),
                Feedback.submitted_at >= scope.since,
                Feedback.submitted_at < scope.until,
            )
            .group_by(response_day)
        )
        .tuples()
        .all()
    )
    case_day = local_day(s, Case.opened_at, tz, scope.since, scope.until)
    cases = dict(
        s.execute(
            select(case_day, func.count())
            .where(Case.team.in_(keys), Case.opened_at >= scope.since, Case.opened_at < scope.until)
            .group_by(case_day)
        )
        .tuples()
        .all()
    )
    if not responses and not cases:
        return None
    responses = {day_key(d): n for d, n in responses.items()}
    cases = {day_key(d): n for d, n in cases.items()}
    return VolumeChart(
        scope=scope,
        days=tuple(days),
        responses=tuple(responses.get(d, 0) for d in days),
        cases=tuple(cases.get(d, 0) for d in days),
    )


def ttr_chart(s: Session, scope: Scope, teams: Sequence[Team]) -> TtrChart | None:
    """Per team, the time to resolve of the cases resolved in the period (their last resolution, SPEC §2)."""
    hours: defaultdict[str, list[float]] = defaultdict(list)
    for r in resolutions(s, teams=[t.key for t in teams], since=scope.since, until=scope.until):
        hours[r.team].append(r.ttr.total_seconds() / 3600)
    boxes = tuple(box(t, hours[t.key]) for t in teams if hours[t.key])
    return TtrChart(scope=scope, boxes=boxes) if boxes else None


def box(team: Team, hours: list[float]) -> TtrBox:
    """Quartiles by linear interpolation (numpy's default), whiskers at the last values within 1.5 IQR."""
    values = np.sort(np.asarray(hours, dtype=float))
    q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
    low_fence, high_fence = q1 - WHISKER * (q3 - q1), q3 + WHISKER * (q3 - q1)
    inside = values[(values >= low_fence) & (values <= high_fence)]
    return TtrBox(
        team=team.key,
        name=team.name,
        n=len(values),
        q1=q1,
        median=median,
        q3=q3,
        whisker_low=float(inside.min()),
        whisker_high=float(inside.max()),
        fliers=tuple(float(v) for v in values[(values < low_fence) | (values > high_fence)]),
        sla_hours=team.sla.resolve.total_seconds() / 3600,
    )


def pareto_chart(s: Session, scope: Scope, teams: Sequence[Team]) -> ParetoChart | None:
    """Root causes of the cases resolved in the period, counted by their standing (last) resolution."""
    cause = CaseEvent.details["root_cause"].as_string()
    rows = s.execute(
        select(cause, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*standing_resolutions([t.key for t in teams], scope.since, scope.until))
        .group_by(cause)
    ).all()
    counted = sorted(((c or "other", n) for c, n in rows), key=lambda r: (-r[1], r[0]))
    if not counted:
        return None
    total = sum(n for _, n in counted)
    running = np.cumsum([n for _, n in counted])
    return ParetoChart(
        scope=scope,
        causes=tuple(c for c, _ in counted),
        counts=tuple(n for _, n in counted),
        cumulative_percent=tuple(float(100 * r / total) for r in running),
    )


def sla_chart(s: Session, scope: Scope, teams: Sequence[Team]) -> SlaChart | None:
    """Per team and local week (Monday first), SLA compliance of the cases whose deadline fell in that week."""
    tz = ZoneInfo(scope.tz)
    found = sla_compliance_by(
        s,
        teams={t.key: t for t in teams},
        since=scope.since,
        until=scope.until,
        bucket=lambda deadline: monday(deadline.astimezone(tz).date()),
    )
    if not any(ack.due or resolve.due for ack, resolve in found.values()):
        return None
    weeks = _weeks(scope, tz)
    series = []
    for t in teams:
        ack, resolve = zip(*(found.get((t.key, w), NOTHING_DUE) for w in weeks))
        series.append(
            SlaSeries(
                team=t.key,
                name=t.name,
                ack_percent=tuple(c.percent for c in ack),
                ack_due=tuple(c.due for c in ack),
                resolve_percent=tuple(c.percent for c in resolve),
                resolve_due=tuple(c.due for c in resolve),
            )
        )
    return SlaChart(scope=scope, weeks=tuple(weeks), teams=tuple(series))


def _weeks(scope: Scope, tz: ZoneInfo) -> list[date]:
    first, last = (
        monday(scope.since.astimezone(tz).date()),
        monday((scope.until.astimezone(tz)).date()),
    )
    return [date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1, 7)]
