"""The huddle digest of one team (SPEC §6): the period since the previous huddle, counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.alerts.silence_model import SilenceRecord
from bot.alerts.silences import Silences
from bot.cases.permissions import named_team
from bot.delivery import outbox
from bot.reports.queries import Headline, _overdue, headlines, median_duration, resolutions
from config.teams import LoopbotConfig, Team
from storage.models import UNRESOLVED, Case, Feedback

TOP_CATEGORIES = 3
LOWEST = 3
# Praise is what bot.scores.praised says; the lowest verbatims are taken from every other response, so
# one comment is never shown as both.


@dataclass(frozen=True)
class Limit:
    """A threshold rule on a metric, as the digest shows it next to the number."""

    comparison: Literal["below", "above"]
    value: float
    window: timedelta

    def breached_by(self, value: float) -> bool:
        return value < self.value if self.comparison == "below" else value > self.value


@dataclass(frozen=True)
class MetricDigest:
    """One metric in the period and in the previous period of equal length; None without responses."""

    metric: str
    value: float | None
    n: int
    previous: float | None
    previous_n: int
    thresholds: tuple[Limit, ...] = ()

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous


@dataclass(frozen=True)
class Verbatim:
    metric: str
    score: int
    comment: str  # PII-masked at ingestion; the renderer escapes and truncates
    submitted_at: datetime


@dataclass(frozen=True)
class Signal:
    """An active SPC signal: the threshold case it opened, with the summary that names its rule."""

    ref: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Digest:
    team: str
    since: datetime
    until: datetime
    responses: int
    csat: MetricDigest
    nps: MetricDigest
    ces: MetricDigest
    open: int  # unresolved now: open or acknowledged
    unacknowledged: int  # state open (a reopened case waits for acknowledgement again)
    overdue: int
    oldest_open_age: timedelta | None
    resolved: int  # cases whose last resolution fell in the period
    median_ttr: timedelta | None
    top_categories: tuple[tuple[str, int], ...]  # (category, negative responses), most first
    lowest: tuple[Verbatim, ...]
    praise: Verbatim | None
    signals: tuple[Signal, ...] = ()  # SPC signals still active at `now`
    silences: tuple[SilenceRecord, ...] = ()  # silences in force at `now`

    @property
    def quiet(self) -> bool:
        """No feedback at all in the period: the digest is short, but still shows the backlog."""
        return self.responses == 0

    @property
    def metrics(self) -> tuple[MetricDigest, MetricDigest, MetricDigest]:
        return self.csat, self.nps, self.ces


def compose(s: Session, team: Team, *, since: datetime, until: datetime, now: datetime) -> Digest:
    """The digest of feedback in [since, until) and of the team's cases as they stand at `now`."""
    [current] = headlines(s, teams=[team.key], since=since, until=until)
    [previous] = headlines(s, teams=[team.key], since=since - (until - since), until=since)
    metrics = {m: _metric(m, current, previous, team) for m in scores.METRICS}
    backlog = _backlog(s, team, now)
    resolved = resolutions(s, teams=[team.key], since=since, until=until)
    lowest, praise = _verbatims(s, team, since, until)
    return Digest(
        team=team.key,
        since=since,
        until=until,
        responses=current.csat_n + current.nps_n + current.ces_n,
        csat=metrics["csat"],
        nps=metrics["nps"],
        ces=metrics["ces"],
        open=backlog[0],
        unacknowledged=backlog[1],
        overdue=backlog[2],
        oldest_open_age=None if backlog[3] is None else now - backlog[3],
        resolved=len(resolved),
        median_ttr=median_duration(r.ttr for r in resolved),
        top_categories=_top_categories(s, team, since, until),
        lowest=lowest,
        praise=praise,
        signals=_signals(s, team),
    )


def _signals(s: Session, team: Team) -> tuple[Signal, ...]:
    """The team's threshold cases whose breach is an SPC signal still going on (active_rule is set)."""
    rows = s.execute(
        select(Case.id, Case.summary)
        .where(Case.team == team.key, Case.active_rule.is_not(None), Case.kind == "threshold")
        .order_by(Case.id)
    )
    return tuple(
        Signal(f"FB-{i}", dict(summary)) for i, summary in rows if "spc" in (summary or {})
    )


class Digests:
    """Digests for the huddle job, `/feedback digest` and `loopbot digest`: one read-only unit each."""

    def __init__(self, reads: sessionmaker[Session], config: LoopbotConfig):
        self.reads = reads
        self.config = config
        self.silences = Silences(reads, config, reads=reads)  # only read here

    def team(self, key: str) -> Team:
        return named_team(self.config, key)

    def for_team(self, team_key: str, now: datetime, since: datetime | None = None) -> Digest:
        """The digest up to `now`, from `since` or else from the team's last huddle strictly before `now`:
        a huddle firing at 09:00 (now = its fire time) covers the previous 09:00 → 09:00."""
        team = self.team(team_key)
        if since is None:
            since = team.huddle.previous_fire(team.tz, now - timedelta(microseconds=1))
        with self.reads.begin() as s:
            digest = compose(s, team, since=since, until=now, now=now)
        return replace(digest, silences=tuple(self.silences.list([team.key], now)))


def enqueue_digest(
    s: Session, team: Team, *, at: datetime, now: datetime, key: str | None = None
) -> str:
    """Queue `team`'s digest of the period up to `at` for its channel: the one way a digest is posted (the huddle
    job, `loopbot digest --post`, the sandbox). Returns the outbox key, by default one per team and period.

    The payload is the team and the period, not the message: the delivery handler composes and renders it
    when it posts (bot.slack.delivery.digest), so no caller needs a Slack renderer, and the period covered is
    the same however late the post goes out.
    """
    key = key or f"digest:{team.key}:{at.isoformat()}"
    outbox.enqueue(
        s,
        key=key,
        kind=outbox.DIGEST,
        channel=team.channel,
        payload={"team": team.key, "at": at.isoformat()},
        now=now,
    )
    return key


def _metric(metric: str, current: Headline, previous: Headline, team: Team) -> MetricDigest:
    limits = tuple(
        Limit(rule.comparison, rule.value, rule.window)
        for rule in team.thresholds
        if rule.metric == metric and not rule.is_spc
    )
    return MetricDigest(
        metric=metric,
        value=getattr(current, metric),
        n=getattr(current, f"{metric}_n"),
        previous=getattr(previous, metric),
        previous_n=getattr(previous, f"{metric}_n"),
        thresholds=limits,
    )


def _backlog(s: Session, team: Team, now: datetime) -> tuple[int, int, int, datetime | None]:
    """(open, unacknowledged, overdue, oldest opened_at), reading only unresolved cases (UNRESOLVED repeated literally)."""
    count, unacknowledged, overdue, oldest = s.execute(
        select(
            func.count(),
            func.sum(case((Case.state == "open", 1), else_=0)),
            func.sum(case((_overdue({team.key: team}, now), 1), else_=0)),
            func.min(Case.opened_at),
        ).where(Case.team == team.key, UNRESOLVED)
    ).one()
    return count, unacknowledged or 0, overdue or 0, oldest


def _top_categories(
    s: Session, team: Team, since: datetime, until: datetime
) -> tuple[tuple[str, int], ...]:
    # One arm per metric: each is a range on (team, metric, submitted_at, score) over the period. Written as
    # one WHERE with an OR, SQLite prefers the (team, category, …) index for the GROUP BY and reads every
    # categorised response the team ever had.
    arms = [
        select(Feedback.category).where(
            Feedback.team == team.key,
            Feedback.metric == metric,
            Feedback.submitted_at >= since,
            Feedback.submitted_at < until,
            scores.negative(team.open_case_when, metric),
            Feedback.category.is_not(None),
        )
        for metric in scores.METRICS
    ]
    complaints = union_all(*arms).subquery()
    n = func.count().label("n")
    rows = s.execute(
        select(complaints.c.category, n)
        .group_by(complaints.c.category)
        .order_by(n.desc(), complaints.c.category)
        .limit(TOP_CATEGORIES)
    ).all()
    return tuple((category, count) for category, count in rows)


def _badness(metric: str, score: int) -> Fraction:
    """0 (best) to 1 (worst) on the metric's own scale, exact so that ties across metrics stay ties."""
    if metric == "csat":
        return Fraction(5 - score, 4)
    if metric == "nps":
        return Fraction(10 - score, 10)
    return Fraction(score - 1, 6)  # ces: 7 is the most effort


def _verbatims(
    s: Session, team: Team, since: datetime, until: datetime
) -> tuple[tuple[Verbatim, ...], Verbatim | None]:
    """The worst and the best commented responses: per metric the few extremes of the period (each a range
    on (team, metric, submitted_at, score), sorting only the period's rows), compared across scales here."""
    parts = []
    for metric in scores.METRICS:
        high_is_bad = scores.high_is_bad(metric)
        praised = scores.praised(metric)
        worst_first = Feedback.score.desc() if high_is_bad else Feedback.score.asc()
        best_first = Feedback.score.asc() if high_is_bad else Feedback.score.desc()
        base = select(
            Feedback.metric, Feedback.score, Feedback.comment, Feedback.submitted_at, Feedback.id
        ).where(
            Feedback.team == team.key,
            Feedback.metric == metric,
            Feedback.submitted_at >= since,
            Feedback.submitted_at < until,
            Feedback.comment.is_not(None),
            func.trim(Feedback.comment) != "",
        )
        newest = (Feedback.submitted_at.desc(), Feedback.id.desc())
        parts.append(
            base.add_columns(literal(False).label("praise"))
            .where(~praised)
            .order_by(worst_first, *newest)
            .limit(LOWEST)
            .subquery()
        )
        parts.append(
            base.add_columns(literal(True).label("praise"))
            .where(praised)
            .order_by(best_first, *newest)
            .limit(1)
            .subquery()
        )
    rows = s.execute(union_all(*(select(*part.c) for part in parts))).all()
    worst = sorted(
        (r for r in rows if not r.praise),
        key=lambda r: (_badness(r.metric, r.score), r.submitted_at, r.id),
        reverse=True,
    )
    best = sorted(
        (r for r in rows if r.praise),
        key=lambda r: (-_badness(r.metric, r.score), r.submitted_at, r.id),
        reverse=True,
    )
    lowest = tuple(Verbatim(r.metric, r.score, r.comment, r.submitted_at) for r in worst[:LOWEST])
    praise = (
        Verbatim(best[0].metric, best[0].score, best[0].comment, best[0].submitted_at)
        if best
        else None
    )
    return lowest, praise
