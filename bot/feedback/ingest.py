"""Store validated feedback: mask, categorise, insert or update, open cases — one transaction per batch."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.cases import opening
from bot.cases.model import NewFeedbackCase
from bot.cases.opening import ChangedResponse
from bot.feedback.categories import Categorizer
from bot.feedback.pii import mask
from bot.feedback.schema import ItemError, Validator, ValidFeedback
from config.teams import LoopbotConfig
from storage.feedback import UPDATABLE, insert_new, stored_rows, update_rows

# Importing history must not flood channels: only recent negative feedback opens a case (SPEC §4).
CASE_HORIZON = timedelta(hours=24)

Key = tuple[str, str]  # (source, external id): the idempotency key of SPEC §4


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    cases: list[str]
    accepted_by_team: dict[str, int] = field(default_factory=dict)
    cases_by_team: dict[str, int] = field(default_factory=dict)
    # The earliest response stored or updated per team: an import of history changes days already judged
    # (SPC rules).
    oldest_by_team: dict[str, datetime] = field(default_factory=dict)
    # Re-sent responses that changed (SPEC §10); accepted + duplicates + updated = the items sent.
    updated: int = 0
    updated_by_team: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """Rows ready to insert (masked, categorised, keyed), how many items they came from, and the earlier
    versions of keys repeated in the batch (each later item updated them), oldest first."""

    rows: list[dict[str, Any]]
    items: int
    earlier: list[dict[str, Any]] = field(default_factory=list)


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
        """One row per (source, id); a key repeated inside the batch is updated by each later item in turn,
        as it would be by separate requests, and its earlier versions kept for the counts."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        earlier: list[dict[str, Any]] = []
        for v in items:
            it = v.item
            key = (it.source or default_source, it.id)
            comment = mask(it.comment) if it.comment else None
            row = {
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
            if key in rows:
                earlier.append(rows[key])
                row = {**rows[key], **_updatable(rows[key], row)}
            rows[key] = row
        return Batch(list(rows.values()), len(items), earlier)


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
        """Store all items or none; a (source, id) seen before, stored or earlier in the batch, is a
        duplicate when SPEC §10's fields are equal, an update when one of them changed."""
        return self.store_rows(
            self.preparer.rows(items, default_source=default_source, now=now),
            origin=origin,
            now=now,
        )

    def store_rows(self, batch: Batch, *, origin: str, now: datetime) -> IngestResult:
        """Insert new rows, update changed ones and open the cases they call for, in one transaction."""
        if not batch.rows:
            return IngestResult(0, batch.items, [])
        by_key = {(r["source"], r["external_id"]): r for r in batch.rows}
        horizon = now - CASE_HORIZON
        with self.sessions.begin() as s:
            inserted = insert_new(s, batch.rows)
            new_keys = {(src, ext) for _, src, ext in inserted}
            # Only a batch that re-sends something reads what is stored.
            stored = stored_rows(s, by_key.keys() - new_keys) if len(new_keys) < len(by_key) else {}
            changed = _changed(by_key, stored)
            update_rows(s, [(old["id"], values) for old, values in changed.values()])
            cases_of = opening.cases_of_responses(s, [old["id"] for old, _ in changed.values()])
            opening.follow_responses(
                s,
                self.config,
                [
                    ChangedResponse(
                        cases_of[old["id"]],
                        _response(old["id"], {**old, **values}),
                        _changes(old, values),
                    )
                    for old, values in changed.values()
                    if old["id"] in cases_of
                ],
                origin,
                now,
            )
            candidates = [(fid, by_key[(src, ext)]) for fid, src, ext in inserted]
            # A response without a case opens one when it turned negative still within the horizon.
            candidates += [
                (old["id"], {**old, **values})
                for old, values in changed.values()
                if old["id"] not in cases_of and old["submitted_at"] >= horizon
            ]
            cases = opening.open_feedback_cases(
                s, self.config, self._negative(candidates, horizon), origin, now
            )
        accepted, updated = _counts(batch, by_key, new_keys, stored, changed.keys())
        stored_new = [by_key[(src, ext)] for _, src, ext in inserted]
        updated_rows = [old for old, _ in changed.values()]
        result = IngestResult(
            accepted=accepted,
            duplicates=batch.items - accepted - updated,
            cases=[c.ref for c in cases],
            accepted_by_team=dict(Counter(r["team"] for r in stored_new)),
            cases_by_team=dict(Counter(c.team for c in cases)),
            oldest_by_team=_oldest([*stored_new, *updated_rows]),
            updated=updated,
            updated_by_team=dict(Counter(r["team"] for r in updated_rows)),
        )
        if self.on_stored is not None and (result.accepted_by_team or result.updated_by_team):
            self.on_stored(result)
        return result

    def _negative(
        self, candidates: Iterable[tuple[int, dict[str, Any]]], horizon: datetime
    ) -> list[NewFeedbackCase]:
        """The responses among (feedback id, row) that open a case: negative and submitted since `horizon`."""
        new = []
        for fid, r in candidates:
            # A stored response may belong to a team since removed from the YAML: it has no channel.
            team = self.config.teams.get(r["team"])
            if (
                team is not None
                and r["submitted_at"] >= horizon
                and scores.is_negative(team.open_case_when, r["metric"], r["score"])
            ):
                new.append(_response(fid, r))
        # Case numbers follow submission order, not the order the database happened to return.
        new.sort(key=lambda n: (n.submitted_at, n.feedback_id))
        return new


def _response(fid: int, r: dict[str, Any]) -> NewFeedbackCase:
    return NewFeedbackCase(
        feedback_id=fid,
        team=r["team"],
        metric=r["metric"],
        score=r["score"],
        category=r["category"],
        segment=r["segment"],
        customer=r["customer"],
        submitted_at=r["submitted_at"],
    )


# -- updates (SPEC §10) -----------------------------------------------------------------------------


def _updatable(base: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """What `item`, a re-send of `base`, may change. Which team, which metric and when stay as first
    stored: they decide the case a response has, its channel and the days it counts in."""
    values = {k: item[k] for k in UPDATABLE}
    if item["metric"] != base["metric"]:
        # A score on another metric's scale cannot replace this one.
        values["score"] = base["score"]
    return values


def _version(row: dict[str, Any]) -> tuple:
    """SPEC §10's fields as compared: empty and absent are alike, tags in any order, attributes as JSON
    (so 1, 1.0 and true differ as they do when stored)."""
    tags, attributes = row["tags"], row["attributes"]
    return (
        row["comment"] or None,
        row["score"],
        tuple(sorted(tags)) if tags else None,
        json.dumps(attributes, sort_keys=True) if attributes else None,
        row["customer"] or None,
        row["segment"] or None,
    )


def _changed(
    by_key: dict[Key, dict[str, Any]], stored: dict[Key, dict[str, Any]]
) -> dict[Key, tuple[dict[str, Any], dict[str, Any]]]:
    """(stored row, its UPDATABLE values as the batch leaves them) of each stored response the batch
    changed."""
    changed = {}
    for key, old in stored.items():
        values = _updatable(old, by_key[key])
        if _version(values) != _version(old):
            changed[key] = (old, values)
    return changed


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed, for the case's timeline. Comment, customer, tags and attributes are named, not
    quoted: the timeline keeps no customer text (retention and erasure clean the feedback rows)."""
    changes: dict[str, Any] = {}
    if old["score"] != new["score"]:
        changes["score"] = {"from": old["score"], "to": new["score"]}
    before, after = _version(old), _version(new)
    for name, i in (("comment", 0), ("customer", 4), ("tags", 2), ("attributes", 3)):
        if before[i] != after[i]:
            was, now = before[i] is not None, after[i] is not None
            changes[name] = "changed" if was and now else "added" if now else "removed"
    for name in ("category", "segment"):
        if (old[name] or None) != (new[name] or None):
            changes[name] = {"from": old[name] or None, "to": new[name] or None}
    return changes


def _counts(
    batch: Batch,
    by_key: dict[Key, dict[str, Any]],
    new_keys: set[Key],
    stored: dict[Key, dict[str, Any]],
    changed: Collection[Key],
) -> tuple[int, int]:
    """(accepted, updated) items, each item counted against the version before it (stored, or earlier in
    the batch): none → accepted, equal → duplicate, different → updated."""
    accepted, updated = len(new_keys), len(changed)
    if not batch.earlier:
        return accepted, updated
    earlier: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for row in batch.earlier:
        earlier[(row["source"], row["external_id"])].append(row)
    for key, versions in earlier.items():
        old = stored.get(key)
        if old is None and key not in new_keys:
            continue  # purged by retention since the insert found it: nothing was stored
        # Count this key's items anew, one by one.
        accepted -= key in new_keys
        updated -= key in changed
        previous = None if old is None else _version(old)
        for row in [*versions, by_key[key]]:
            version = _version(row if old is None else _updatable(old, row))
            if previous is None:
                accepted += 1
            elif version != previous:
                updated += 1
            previous = version
    return accepted, updated


def _oldest(rows: Iterable[dict[str, Any]]) -> dict[str, datetime]:
    oldest: dict[str, datetime] = {}
    for row in rows:
        team, at = row["team"], row["submitted_at"]
        if team not in oldest or at < oldest[team]:
            oldest[team] = at
    return oldest
