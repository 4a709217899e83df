"""Store validated feedback: mask, categorise, skip duplicates, open cases — one transaction per batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.cases import opening
from bot.cases.model import NewFeedbackCase
from bot.feedback.categories import Categorizer
from bot.feedback.pii import mask
from bot.feedback.schema import ItemError, Validator, ValidFeedback
from config.teams import LoopbotConfig
from storage.feedback import insert_new

# Importing history must not flood channels: only recent negative feedback opens a case (SPEC §4).
CASE_HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    cases: list[str]
    accepted_by_team: dict[str, int] = field(default_factory=dict)
    cases_by_team: dict[str, int] = field(default_factory=dict)
    # The earliest response stored per team: an import of history changes days already judged (SPC rules).
    oldest_by_team: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """Rows ready to insert (masked, categorised, keyed), and how many items they came from."""

    rows: list[dict[str, Any]]
    items: int


class Preparer:
    """The CPU half of ingestion, no database: validate items, then mask, categorise and build rows.
    Built from the config alone, so the CSV import can run it in a process of its own."""

    def __init__(self, config: LoopbotConfig):
        self.validator = Validator(set(config.teams), config.routing)
        self.categorizer = Categorizer.from_config(config.categories)

    def validate(
        self, raw_items: Iterable[object], now: datetime, start: int = 0
    ) -> tuple[list[ValidFeedback], list[ItemError]]:
        valid: list[ValidFeedback] = []
        errors: list[ItemError] = []
        for i, raw in enumerate(raw_items, start):
            result = self.validator.validate(raw, i, now)
            if isinstance(result, list):
                errors.extend(result)
            else:
                valid.append(result)
        return valid, errors

    def rows(self, items: Sequence[ValidFeedback], *, default_source: str, now: datetime) -> Batch:
        """One row per (source, id); a key repeated inside the batch keeps its first item."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for v in items:
            it = v.item
            key = (it.source or default_source, it.id)
            if key in rows:
                continue
            comment = mask(it.comment) if it.comment else None
            rows[key] = {
                "source": key[0],
                "external_id": it.id,
                "team": v.team,
                "metric": it.metric,
                "score": it.score,
                "comment": comment,
                "category": self.categorizer.categorize(comment),
                "submitted_at": it.submitted_at,
                "received_at": now,
                "touchpoint": it.touchpoint,
                "customer": it.customer,
                "segment": it.segment,
                "channel": it.channel,
                "tags": it.tags,
                "attributes": it.attributes,
            }
        return Batch(list(rows.values()), len(items))


class Ingestor:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig):
        self.sessions = sessions
        self.config = config
        self.preparer = Preparer(config)
        # Told which teams got new feedback after each commit (`loopbot run` evaluates their threshold rules).
        self.on_stored: Callable[[IngestResult], None] | None = None

    def validate(
        self, raw_items: Iterable[object], now: datetime, start: int = 0
    ) -> tuple[list[ValidFeedback], list[ItemError]]:
        return self.preparer.validate(raw_items, now, start)

    def store(
        self, items: Sequence[ValidFeedback], *, default_source: str, origin: str, now: datetime
    ) -> IngestResult:
        """Store all items or none; a (source, id) seen before, here or earlier in the batch, is a duplicate."""
        return self.store_rows(
            self.preparer.rows(items, default_source=default_source, now=now),
            origin=origin,
            now=now,
        )

    def store_rows(self, batch: Batch, *, origin: str, now: datetime) -> IngestResult:
        """Insert prepared rows and open the cases they call for, in one transaction."""
        if not batch.rows:
            return IngestResult(0, batch.items, [])
        with self.sessions.begin() as s:
            inserted = insert_new(s, batch.rows)
            by_key = {(r["source"], r["external_id"]): r for r in batch.rows}
            cases = opening.open_feedback_cases(
                s, self.config, self._negative(by_key, inserted, now), origin, now
            )
        result = IngestResult(
            accepted=len(inserted),
            duplicates=batch.items - len(inserted),
            cases=[c.ref for c in cases],
            accepted_by_team=dict(Counter(by_key[(src, ext)]["team"] for _, src, ext in inserted)),
            cases_by_team=dict(Counter(c.team for c in cases)),
            oldest_by_team=_oldest(by_key[(src, ext)] for _, src, ext in inserted),
        )
        if self.on_stored is not None and result.accepted_by_team:
            self.on_stored(result)
        return result

    def _negative(
        self, rows: dict[tuple[str, str], dict[str, Any]], inserted: Sequence, now: datetime
    ) -> list[NewFeedbackCase]:
        horizon = now - CASE_HORIZON
        new = []
        for fid, source, external_id in inserted:
            r = rows[(source, external_id)]
            team = self.config.teams[r["team"]]
            if r["submitted_at"] >= horizon and scores.is_negative(
                team.open_case_when, r["metric"], r["score"]
            ):
                new.append(
                    NewFeedbackCase(
                        feedback_id=fid,
                        team=r["team"],
                        metric=r["metric"],
                        score=r["score"],
                        category=r["category"],
                        segment=r["segment"],
                        customer=r["customer"],
                        submitted_at=r["submitted_at"],
                    )
                )
        # Case numbers follow submission order, not the order the database happened to return.
        new.sort(key=lambda n: (n.submitted_at, n.feedback_id))
        return new


def _oldest(rows: Iterable[dict[str, Any]]) -> dict[str, datetime]:
    oldest: dict[str, datetime] = {}
    for row in rows:
        team, at = row["team"], row["submitted_at"]
        if team not in oldest or at < oldest[team]:
            oldest[team] = at
    return oldest
