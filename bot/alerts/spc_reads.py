"""The daily counts behind a team's SPC rules (SPEC §9), grouped by the team's local day in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import scores
from bot.alerts.spc import Counts
from bot.charts.localtime import day_key, local_day, local_midnight
from config.teams import Team, Threshold
from storage.models import Feedback

# The last 7 completed days can each be the latest judged day; runs of 8 days need the 7 days before it.
RECENT_DAYS = 7
JUDGED_DAYS = RECENT_DAYS + 7


@dataclass(frozen=True)
class Daily:
    """Per series (series_key), one Counts per local day from `first` to `last`, oldest first."""

    first: date
    last: date
    counts: dict[str, list[Counts]]


def series_key(rule: Threshold) -> str:
    """csat, nps, ces, or complaints:<category>: rules on the same series share its counts."""
    return f"complaints:{rule.category}" if rule.metric == "complaints" else rule.metric


def last_complete_day(team: Team, now: datetime) -> date:
    """Yesterday in the team's zone: today is not over, so it is not a point yet."""
    return now.astimezone(team.tz).date() - timedelta(days=1)


def daily_counts(s: Session, team: Team, rules: Sequence[Threshold], last: date) -> Daily:
    """Counts of every series the SPC `rules` need, for the JUDGED_DAYS up to `last` and the longest
    baseline before them, grouped by local day in SQL.

    Two queries, each over an index that holds what it reads: the survey metrics by (local day, metric)
    over (team, metric, submitted_at, score), and the complaints by (local day, category) over (team,
    category, submitted_at). One query doing both read the table for every row: three times slower.
    """
    longest = max(rule.baseline or timedelta(0) for rule in rules) // timedelta(days=1)
    first = last - timedelta(days=JUDGED_DAYS + longest - 1)
    since, until = local_midnight(first, team.tz), local_midnight(last + timedelta(days=1), team.tz)
    days = (last - first).days + 1
    categories = sorted({r.category for r in rules if r.metric == "complaints" and r.category})
    # Complaints per response divide by every response of the day, so they need all three metrics.
    metrics = [m for m in scores.METRICS if categories or any(r.metric == m for r in rules)]
    counts: dict[str, list[Counts]] = {series_key(r): [Counts(0)] * days for r in rules}
    everyone = [0] * days
    day = local_day(s, Feedback.submitted_at, team.tz, since, until)
    within = (
        Feedback.team == team.key,
        Feedback.submitted_at >= since,
        Feedback.submitted_at < until,
    )
    score = Feedback.score
    rows = s.execute(
        select(
            day,
            Feedback.metric,
            func.count(),
            scores.count_satisfied(),
            scores.count_promoters(),
            scores.count_detractors(),
            func.sum(score),
            func.sum(score * score),
        )
        .where(*within, Feedback.metric.in_(metrics))
        .group_by(day, Feedback.metric)
    ).all()
    for d, metric, n, satisfied, promoters, detractors, total, squares in rows:
        i = (day_key(d) - first).days
        everyone[i] += n
        if metric in counts:
            counts[metric][i] = {
                "csat": Counts(n, int(satisfied)),
                "nps": Counts(n, int(promoters), int(detractors)),
                "ces": Counts(n, int(total), int(squares)),
            }[metric]
    if categories:
        complaints = {c: [0] * days for c in categories}
        for d, category, k in s.execute(
            select(day, Feedback.category, func.count())
            .where(
                *within,
                Feedback.category.in_(categories),
                scores.negative_any(team.open_case_when),
            )
            .group_by(day, Feedback.category)
        ):
            complaints[category][(day_key(d) - first).days] = k
        for c, found in complaints.items():
            counts[f"complaints:{c}"] = [Counts(n, k) for n, k in zip(everyone, found)]
    return Daily(first, last, counts)
