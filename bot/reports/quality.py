"""Quality and learning (SPEC §9): reopen rates, and keyword categories against the causes chosen — in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot.reports.queries import standing_resolutions
from storage.models import Case, CaseEvent

TOP_DISAGREEMENTS = 5


@dataclass(frozen=True)
class Reopens:
    """Cases resolved at least once in the period (duplicate resolutions left out), and how many of them were
    reopened at least once before the period's end; the rest were resolved without a reopen."""

    resolved: int = 0
    reopened: int = 0

    @property
    def rate(self) -> float | None:
        return None if self.resolved == 0 else 100 * self.reopened / self.resolved

    @property
    def without_reopen(self) -> float | None:
        return None if self.resolved == 0 else 100 * (self.resolved - self.reopened) / self.resolved


@dataclass(frozen=True)
class Pair:
    """Resolved cases whose keyword category was `category` and whose cause was `cause`."""

    category: str
    cause: str
    count: int


@dataclass(frozen=True)
class CategoryFit:
    """One keyword category: its resolved cases, and how many of them were resolved with it as their cause."""

    category: str
    resolved: int
    agreed: int

    @property
    def percent(self) -> float:
        return 100 * self.agreed / self.resolved


@dataclass(frozen=True)
class CategoryAgreement:
    """Over the feedback cases standing resolved in the period whose response had a keyword category: how many
    were resolved with that category as their cause (SPEC §9), per category, and the most frequent mismatches.

    uncategorised: the period's resolved feedback cases whose response matched no keyword (not in `resolved`):
    the taxonomy's blind spot.
    """

    resolved: int = 0
    agreed: int = 0
    by_category: tuple[CategoryFit, ...] = ()  # the most resolved first
    disagreements: tuple[Pair, ...] = ()  # most frequent first, at most TOP_DISAGREEMENTS
    uncategorised: int = 0

    @property
    def percent(self) -> float | None:
        return None if self.resolved == 0 else 100 * self.agreed / self.resolved


def reopens(
    s: Session, teams: Sequence[str], since: datetime, until: datetime
) -> dict[str, Reopens]:
    """Per team: the cases with a resolution in [since, until) (by case_events(kind, at)), each tested for a
    reopen before `until` on case_events(case_id, kind, at). A case reopened before a resolution in the period
    counts as reopened too: it was not resolved the first time."""
    keys = list(teams)
    if not keys:
        return {}
    outcome = CaseEvent.details["outcome"].as_string()
    cohort = (
        select(Case.team.label("team"), Case.id.label("id"))
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.kind == "resolved",
            or_(outcome.is_(None), outcome != "duplicate"),
            CaseEvent.at >= since,
            CaseEvent.at < until,
            Case.team.in_(keys),
        )
        .distinct()
        .subquery()
    )
    reopen = aliased(CaseEvent)
    was_reopened = exists().where(
        reopen.case_id == cohort.c.id, reopen.kind == "reopened", reopen.at < until
    )
    rows = s.execute(
        select(cohort.c.team, func.count(), func.sum(case((was_reopened, 1), else_=0))).group_by(
            cohort.c.team
        )
    ).all()
    return {team: Reopens(n, reopened or 0) for team, n, reopened in rows}


def category_agreement(
    s: Session, teams: Sequence[str], since: datetime, until: datetime
) -> CategoryAgreement:
    """One GROUP BY (category, cause) over the standing resolutions of the period (the latest resolution of each
    case, duplicates left out: bot.reports.queries.standing_resolutions), feedback cases only — a systemic
    case's category is its cause, not a keyword match."""
    keys = list(teams)
    if not keys:
        return CategoryAgreement()
    cause = CaseEvent.details["root_cause"].as_string()
    rows = s.execute(
        select(Case.category, cause, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*standing_resolutions(keys, since, until), Case.kind == "feedback")
        .group_by(Case.category, cause)
    ).all()
    resolved: dict[str, int] = {}
    agreed: dict[str, int] = {}
    mismatches: list[Pair] = []
    uncategorised = 0
    for category, chosen, n in rows:
        if category is None:
            uncategorised += n
            continue
        resolved[category] = resolved.get(category, 0) + n
        if chosen == category:
            agreed[category] = n
        else:
            mismatches.append(Pair(category, chosen or "other", n))
    mismatches.sort(key=lambda p: (-p.count, p.category, p.cause))
    categories = sorted(resolved, key=lambda c: (-resolved[c], c))
    return CategoryAgreement(
        resolved=sum(resolved.values()),
        agreed=sum(agreed.values()),
        by_category=tuple(CategoryFit(c, resolved[c], agreed.get(c, 0)) for c in categories),
        disagreements=tuple(mismatches[:TOP_DISAGREEMENTS]),
        uncategorised=uncategorised,
    )
