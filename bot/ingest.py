"""Store validated feedback: mask, categorise, skip duplicates, open cases — one transaction per batch."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.cases import Cases, NewFeedbackCase
from bot.categories import Categorizer
from bot.pii import mask
from bot.schema import ItemError, Validator, ValidFeedback
from config.teams import LoopbotConfig
from storage.models import Feedback
from storage.upsert import insert_ignoring

# Importing history must not flood channels: only recent negative feedback opens a case (SPEC §4).
CASE_HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    cases: list[str]
    accepted_by_team: dict[str, int] = field(default_factory=dict)
    cases_by_team: dict[str, int] = field(default_factory=dict)


class Ingestor:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, cases: Cases):
        self.sessions = sessions
        self.config = config
        self.cases = cases
        self.validator = Validator(set(config.teams), config.routing)
        self.categorizer = Categorizer.from_config(config.categories)

    def validate(self, raw_items: Iterable[object], now: datetime, start: int = 0) -> tuple[list[ValidFeedback], list[ItemError]]:
        valid: list[ValidFeedback] = []
        errors: list[ItemError] = []
        for i, raw in enumerate(raw_items, start):
            result = self.validator.validate(raw, i, now)
            if isinstance(result, list):
                errors.extend(result)
            else:
                valid.append(result)
        return valid, errors

    def store(self, items: Sequence[ValidFeedback], *, default_source: str, origin: str, now: datetime) -> IngestResult:
        """Store all items or none; a (source, id) seen before, here or earlier in the batch, is a duplicate."""
        rows: dict[tuple[str, str], dict] = {}
        for v in items:
            it = v.item
            key = (it.source or default_source, it.id)
            if key in rows:
                continue
            comment = mask(it.comment) if it.comment else None
            rows[key] = {
                "source": key[0], "external_id": it.id, "team": v.team, "metric": it.metric, "score": it.score,
                "comment": comment, "category": self.categorizer.categorize(comment),
                "submitted_at": it.submitted_at, "received_at": now, "touchpoint": it.touchpoint,
                "customer": it.customer, "segment": it.segment, "channel": it.channel,
                "tags": it.tags, "attributes": it.attributes,
            }
        if not rows:
            return IngestResult(0, len(items), [])
        with self.sessions.begin() as s:
            stmt = insert_ignoring(s, Feedback.__table__, ["source", "external_id"]).returning(
                Feedback.id, Feedback.source, Feedback.external_id
            )
            inserted = s.execute(stmt, list(rows.values())).all()
            cases = self.cases.open_feedback_cases(s, self._negative(rows, inserted, now), origin, now)
        return IngestResult(
            accepted=len(inserted), duplicates=len(items) - len(inserted), cases=[c.ref for c in cases],
            accepted_by_team=dict(Counter(rows[(src, ext)]["team"] for _, src, ext in inserted)),
            cases_by_team=dict(Counter(c.team for c in cases)),
        )

    def _negative(self, rows: dict[tuple[str, str], dict], inserted: Sequence, now: datetime) -> list[NewFeedbackCase]:
        horizon = now - CASE_HORIZON
        new = []
        for fid, source, external_id in inserted:
            r = rows[(source, external_id)]
            team = self.config.teams[r["team"]]
            if r["submitted_at"] >= horizon and team.open_case_when.is_negative(r["metric"], r["score"]):
                new.append(NewFeedbackCase(
                    feedback_id=fid, team=r["team"], metric=r["metric"], score=r["score"], category=r["category"],
                    segment=r["segment"], customer=r["customer"], submitted_at=r["submitted_at"],
                ))
        # Case numbers follow submission order, not the order the database happened to return.
        new.sort(key=lambda n: (n.submitted_at, n.feedback_id))
        return new
