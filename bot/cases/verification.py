"""Verification of corrective actions (SPEC §8): when an action's after window closes, compare it with the
before window and record the result once, with its figures, on the action's timeline."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.cases import verdict
from bot.cases.action_rules import add_once
from bot.charts.localtime import day_key, local_day, local_midnight
from config.teams import LoopbotConfig, Team
from storage.models import CorrectiveAction, Feedback

log = logging.getLogger("loopbot.verification")

SOURCE = "job"
ACTOR = "loopbot"
# Measures of an action born from a threshold case, beside its cause's complaint rate.
METRIC_MEASURES = {"csat": "CSAT", "nps": "NPS", "ces": "CES"}


@dataclass(frozen=True)
class Windows:
    """Whole local days: before = the `weeks` before the live day, after = the same length from the first
    whole day after the change went live (the live day itself when it went live at midnight)."""

    before: tuple[date, date]  # [first, end) local days
    after: tuple[date, date]

    @classmethod
    def of(cls, live: datetime, window: timedelta, tz: Any) -> Windows:
        local = live.astimezone(tz)
        cut = local.date()
        start_after = cut if live == local_midnight(cut, tz) else cut + timedelta(1)
        days = timedelta(days=window.days)
        return cls((cut - days, cut), (start_after, start_after + days))

    def closes(self, tz: Any) -> datetime:
        return local_midnight(self.after[1], tz)


@dataclass(frozen=True)
class Bucket:
    """One local day's responses of a team, per metric, touchpoint, segment and category."""

    day: date
    metric: str
    touchpoint: str | None
    segment: str
    category: str | None
    n: int
    total: int
    squares: int
    satisfied: int
    promoters: int
    detractors: int


class Verifier:
    """Each team is one read of its responses and one unit of work for its due actions; each action's result
    is written once (a conditional UPDATE on its version), whoever runs the job."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config

    def run(self, now: datetime) -> list[tuple[str, str]]:
        """Verify every done action whose after window has closed; (CA ref, result) for each verified now."""
        with self.reads.begin() as s:
            rows = list(
                s.scalars(
                    select(CorrectiveAction).where(
                        CorrectiveAction.state == "done",
                        CorrectiveAction.live_at <= now - timedelta(weeks=1),
                    )
                )
            )
            s.expunge_all()
        due: dict[str, list[tuple[CorrectiveAction, Windows]]] = defaultdict(list)
        for row in rows:
            team = self.config.teams.get(row.team)
            if team is None or row.live_at is None:
                continue
            windows = Windows.of(row.live_at, team.verify_window, team.tz)
            if windows.closes(team.tz) <= now:
                due[row.team].append((row, windows))
        done: list[tuple[str, str]] = []
        for key, actions in due.items():
            try:
                done += self._team(self.config.teams[key], actions, now)
            except Exception:
                log.exception("verification failed for team %s", key)
        return done

    def _team(
        self, team: Team, actions: list[tuple[CorrectiveAction, Windows]], now: datetime
    ) -> list[tuple[str, str]]:
        first = min(w.before[0] for _, w in actions)
        end = max(w.after[1] for _, w in actions)
        # Only what the due actions look at is told apart: their causes, and touchpoints if any has some.
        causes = {row.cause for row, _ in actions}
        by_touchpoint = any(row.touchpoints for row, _ in actions)
        with self.reads.begin() as s:
            buckets = buckets_of(s, team, first, end, causes=causes, by_touchpoint=by_touchpoint)
        by_day: dict[date, list[Bucket]] = defaultdict(list)
        for b in buckets:
            by_day[b.day].append(b)
        done: list[tuple[str, str]] = []
        with self.sessions.begin() as s:
            for row, windows in actions:
                result = evaluate(row, windows, by_day, team)
                if self._record(s, row, team, result, now):
                    done.append((f"CA-{row.id}", result["result"]))
        for ref, result in done:
            log.info("%s of team %s: %s", ref, team.key, result)
        return done

    def _record(
        self, s: Session, row: CorrectiveAction, team: Team, result: dict[str, Any], now: datetime
    ) -> bool:
        won = s.execute(
            update(CorrectiveAction)
            .where(
                CorrectiveAction.id == row.id,
                CorrectiveAction.version == row.version,
                CorrectiveAction.state == "done",
            )
            .values(
                state=result["result"],
                verification=result,
                verified_at=now,
                version=row.version + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            return False
        return (
            add_once(
                s,
                row,
                team.channel,
                "verification",
                result,
                key=f"action:{row.id}:r{row.round}:verification",
                actor=ACTOR,
                source=SOURCE,
                now=now,
            )
            is not None
        )


def buckets_of(
    s: Session,
    team: Team,
    first: date,
    end: date,
    *,
    causes: Collection[str] | None = None,
    by_touchpoint: bool = True,
) -> list[Bucket]:
    """The team's responses from local day `first` to `end` (excluded), counted per local day, metric,
    touchpoint, segment and category: the database counts, Python only adds up windows. With `causes`,
    other categories count as none; without `by_touchpoint`, every touchpoint as none: fewer groups to
    sort and add up."""
    since, until = local_midnight(first, team.tz), local_midnight(end, team.tz)
    day = local_day(s, Feedback.submitted_at, team.tz, since, until)
    score = Feedback.score
    touchpoint = Feedback.touchpoint if by_touchpoint else null()
    category = (
        Feedback.category
        if causes is None
        else case((Feedback.category.in_(sorted(causes)), Feedback.category), else_=null())
    )
    query = (
        select(
            day,
            Feedback.metric,
            touchpoint,
            Feedback.segment,
            category,
            func.count(),
            func.sum(score),
            func.sum(score * score),
            scores.count_satisfied(),
            scores.count_promoters(),
            scores.count_detractors(),
        )
        .where(
            Feedback.team == team.key,
            Feedback.submitted_at >= since,
            Feedback.submitted_at < until,
        )
        # A constant is no group key (PostgreSQL refuses one in GROUP BY).
        .group_by(
            day,
            Feedback.metric,
            *([touchpoint] if by_touchpoint else []),
            Feedback.segment,
            category,
        )
    )
    return [
        Bucket(day_key(d), m, tp, seg or "", cat, n, int(t or 0), int(q or 0), sa, pr, de)
        for d, m, tp, seg, cat, n, t, q, sa, pr, de in s.execute(query)
    ]


def evaluate(
    row: CorrectiveAction,
    windows: Windows,
    by_day: dict[date, list[Bucket]],
    team: Team,
) -> dict[str, Any]:
    """The action's checks and overall result, as stored and shown (deterministic for the same data)."""
    touchpoints = set(row.touchpoints or [])

    def window(bounds: tuple[date, date]) -> list[Bucket]:
        days = (bounds[0] + timedelta(i) for i in range((bounds[1] - bounds[0]).days))
        return [
            b
            for d in days
            for b in by_day.get(d, ())
            if not touchpoints or b.touchpoint in touchpoints
        ]

    before, after = window(windows.before), window(windows.after)
    min_n = team.verify_min_responses
    checks = [_complaints(row.cause, before, after, min_n)]
    if row.metric in METRIC_MEASURES:
        checks.append(_metric(row.metric, before, after, min_n))
    results = {c["result"] for c in checks}
    overall = (
        verdict.INCONCLUSIVE
        if verdict.INCONCLUSIVE in results
        else verdict.VERIFIED
        if results == {verdict.VERIFIED}
        else verdict.NOT_VERIFIED
    )
    return {
        "result": overall,
        "checks": checks,
        "before": [d.isoformat() for d in windows.before],
        "after": [d.isoformat() for d in windows.after],
        "min_n": min_n,
    }


def _complaints(
    cause: str, before: list[Bucket], after: list[Bucket], min_n: int
) -> dict[str, Any]:
    def shares(buckets: list[Bucket]) -> dict[str, verdict.Share]:
        n: dict[str, int] = defaultdict(int)
        hits: dict[str, int] = defaultdict(int)
        for b in buckets:
            n[b.segment] += b.n
            if b.category == cause:
                hits[b.segment] += b.n
        return {seg: verdict.Share(n[seg], hits[seg]) for seg in n}

    v = verdict.proportions(shares(before), shares(after), lower_is_better=True, min_n=min_n)
    return _check(f"{cause} complaints", "rate", v)


def _metric(metric: str, before: list[Bucket], after: list[Bucket], min_n: int) -> dict[str, Any]:
    mine = [b for b in before if b.metric == metric], [b for b in after if b.metric == metric]
    if metric == "csat":

        def shares(buckets: list[Bucket]) -> dict[str, verdict.Share]:
            out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for b in buckets:
                out[b.segment][0] += b.n
                out[b.segment][1] += b.satisfied
            return {seg: verdict.Share(n, hits) for seg, (n, hits) in out.items()}

        v = verdict.proportions(
            shares(mine[0]), shares(mine[1]), lower_is_better=False, min_n=min_n
        )
        return _check("CSAT", "rate", v)

    def moments(buckets: list[Bucket]) -> dict[str, verdict.Moments]:
        out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        for b in buckets:
            acc = out[b.segment]
            acc[0] += b.n
            if metric == "nps":  # NPS is the mean of +100 (promoter), 0 and -100 (detractor)
                acc[1] += 100.0 * (b.promoters - b.detractors)
                acc[2] += 10_000.0 * (b.promoters + b.detractors)
            else:
                acc[1] += b.total
                acc[2] += b.squares
        return {seg: verdict.Moments(int(n), t, q) for seg, (n, t, q) in out.items()}

    lower = metric == "ces"
    v = verdict.means(moments(mine[0]), moments(mine[1]), lower_is_better=lower, min_n=min_n)
    return _check(METRIC_MEASURES[metric], "nps" if metric == "nps" else "mean", v)


def _check(measure: str, kind: str, v: verdict.Verdict) -> dict[str, Any]:
    return {
        "measure": measure,
        "kind": kind,
        "before": round(v.before, 6),
        "after": round(v.after, 6),
        "n_before": v.n_before,
        "n_after": v.n_after,
        "p": None if v.p_value is None else round(v.p_value, 6),
        "test": v.test,
        "result": v.result,
    }
