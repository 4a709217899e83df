"""Repeats (SPEC §8): what a new case's message says about its customer's earlier cases and its category's
count, computed inside the opening unit of work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases.checks import team_of
from config.fields import fmt_duration
from config.teams import LoopbotConfig
from storage.models import Case

_CHUNK = 500  # values per IN (...): far below SQLite's bound-parameter limit
CAUSE_HINT_FROM = 3  # a category's count is shown from its 3rd case in the window on


def note_repeats(s: Session, config: LoopbotConfig, cases: Sequence[Case], now: datetime) -> None:
    """Write into each new case's summary its customer's earlier cases (any team, any metric) and how many
    cases of its category its team had, within the team's recurrence window. One query per batch for the
    customers and one per (team, category) pair: opening a case stays cheap."""
    if not cases:
        return
    windows = {c.team: team_of(config, c.team).recurrence_window for c in cases}
    since = now - max(windows.values())
    first_new = min(c.id for c in cases)
    earlier: dict[str, list[tuple[int, datetime, str]]] = {}
    customers = sorted({c.customer for c in cases if c.customer})
    for start in range(0, len(customers), _CHUNK):
        rows = s.execute(
            select(Case.customer, Case.id, Case.opened_at, Case.team)
            .where(Case.customer.in_(customers[start : start + _CHUNK]), Case.opened_at >= since)
            .order_by(Case.id)
        )
        for customer, case_id, opened_at, team in rows:
            earlier.setdefault(customer, []).append((case_id, opened_at, team))
    before: Counter[tuple[str, str]] = Counter()
    by_window: dict[timedelta, set[tuple[str, str]]] = {}
    for c in cases:
        if c.category:
            by_window.setdefault(windows[c.team], set()).add((c.team, c.category))
    # One GROUP BY per distinct window (usually one), over the (category, team, opened_at) index.
    for window, pairs in by_window.items():
        rows = s.execute(
            select(Case.team, Case.category, func.count())
            .where(
                Case.category.in_(sorted({cat for _, cat in pairs})),
                Case.team.in_(sorted({team for team, _ in pairs})),
                Case.opened_at >= now - window,
                Case.id < first_new,
            )
            .group_by(Case.team, Case.category)
        )
        for team, category, count in rows:
            if (team, category) in pairs:
                before[(team, category)] = count
    seen: Counter[tuple[str, str]] = Counter()
    updates: list[dict[str, Any]] = []
    for case in sorted(cases, key=lambda c: c.id):
        window = windows[case.team]
        repeat: dict[str, Any] = {}
        if case.customer:
            # A private team's cases are named (and counted) only on its own cases' messages (SPEC §11).
            prior = [
                i
                for i, at, team in earlier.get(case.customer, [])
                if i < case.id and at >= now - window and _shown_with(config, team, case.team)
            ]
            if prior:
                repeat["customer"] = [f"FB-{i}" for i in prior[-5:]]
                repeat["customer_count"] = len(prior) + 1
        if case.category:
            pair = (case.team, case.category)
            seen[pair] += 1
            count = before[pair] + seen[pair]
            if count >= CAUSE_HINT_FROM:
                repeat["category_count"] = count
        if repeat:
            repeat["window"] = fmt_duration(window)
            summary = {**(case.summary or {}), "repeat": repeat}
            set_committed_value(case, "summary", summary)
            updates.append({"b_id": case.id, "b_summary": summary})
    if updates:
        table = (
            Case.__table__
        )  # Core executemany: the ORM form would want whole rows by primary key
        s.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(summary=bindparam("b_summary")),
            updates,
        )


def _shown_with(config: LoopbotConfig, team: str, on: str) -> bool:
    """Whether a case of `team` may be named on the message of a case of `on`, posted in `on`'s channel."""
    other = config.teams.get(team)
    return team == on or other is None or other.privacy == "open"
