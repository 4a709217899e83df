"""Taking a customer's identifier and words out of where Loopbot copied them: a case's customer column and
summary, timeline lines quoting them, rendered posts, staff text. Retention (bot.delivery.retention) and
erasure (bot.privacy.erase) both remove through here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Text, bindparam, cast, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent

ERASED = (
    "[erased]"  # what an erased customer's identifier and words become; the case message says so
)
REMOVED = "[removed]"  # what retention leaves of a quote in a timeline line
# A comment is looked for in other text only from this length: "late" or "ok" quoted back identifies no one,
# and replacing every "late" would garble the notes.
MIN_QUOTE = 12
# A rendered message clips a long comment and quotes it line by line: its opening words still find it.
PROBE = 40
# Ids per statement, far below either backend's limit on bound parameters.
CHUNK = 1_000
_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_LIKE = str.maketrans({"!": "!!", "%": "!%", "_": "!_"})


class Needles:
    """One or more customers' identifiers and comments, found as whole words in any text or JSON value."""

    def __init__(self, customers: Iterable[str | None], comments: Iterable[str | None] = ()):
        self.customers = sorted({c for c in customers if c and c.strip()}, key=len, reverse=True)
        quotes: set[str] = set()
        for comment in comments:
            text = (comment or "").strip()
            if len(text) >= MIN_QUOTE:
                quotes.update((text, text.translate(_SLACK)))  # as stored, and as Slack shows it
        self.quotes = sorted(quotes, key=len, reverse=True)
        self.probes = sorted({q.splitlines()[0][:PROBE] for q in quotes} - quotes, key=len)
        self.probes = [p for p in self.probes if len(p) >= MIN_QUOTE]
        # Whole quotes before probes: a probe takes the rest of its line, a quote only itself.
        parts = [re.escape(n) for n in (*self.customers, *self.quotes)]
        parts += [re.escape(p) + r"[^\n]*" for p in self.probes]
        self._pattern = re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)") if parts else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def sub(self, value: Any, marker: str) -> Any:
        """`value` (text, or JSON as loaded) with every needle replaced by `marker`."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(marker, value)
        if isinstance(value, list):
            return [self.sub(v, marker) for v in value]
        if isinstance(value, dict):
            return {k: self.sub(v, marker) for k, v in value.items()}
        return value

    def likes(self, *, json_text: bool) -> list[str]:
        """LIKE patterns (escape "!") that every row holding a needle matches: the database narrows the
        rows, Python decides. JSON columns hold json.dumps text, so the needles are looked for as it writes
        them (SQLAlchemy's default serializer escapes quotes, backslashes and non-ASCII characters)."""
        found = {*self.customers, *(q[:PROBE] for q in self.quotes), *self.probes}
        if json_text:
            found = {json.dumps(n)[1:-1] for n in found}
        return [f"%{n.translate(_LIKE)}%" for n in sorted(found)]


def summary_like(key: str, value: str) -> str:
    """A LIKE pattern for summaries holding `"key": "value"` (json.dumps' separators)."""
    return "%" + json.dumps({key: value})[1:-1].translate(_LIKE) + "%"


def scrub_cases(
    s: Session,
    cases: Sequence[tuple[int, dict[str, Any] | None, Needles]],
    *,
    marker: str,
    customer: str | None,
) -> tuple[int, int]:
    """Take the customer out of these cases, inside the caller's unit of work: the customer column goes, the
    summary's customer becomes `customer` (dropped when None), and their timeline lines lose every needle
    (replaced by `marker`). Metrics, times, states and what staff wrote stay. (cases, timeline lines)."""
    if not cases:
        return 0, 0
    rows = []
    for case_id, summary, _needles in cases:
        kept = {k: v for k, v in (summary or {}).items() if k != "customer"}
        if customer is not None:
            kept["customer"] = customer
        rows.append({"b_id": case_id, "b_summary": kept})
    table = Case.__table__
    s.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(customer=None, summary=bindparam("b_summary", type_=table.c.summary.type)),
        rows,
    )
    needles = {case_id: n for case_id, _summary, n in cases if n}
    events = 0
    ids = sorted(needles)
    for i in range(0, len(ids), CHUNK):
        found = s.execute(
            select(CaseEvent.id, CaseEvent.case_id, CaseEvent.details).where(
                CaseEvent.case_id.in_(ids[i : i + CHUNK])
            )
        ).all()
        changed = [
            (row.id, new)
            for row in found
            if (new := needles[row.case_id].sub(row.details, marker)) != row.details
        ]
        events += _write(s, CaseEvent.__table__.c.details, changed)
    return len(rows), events


def sweep(s: Session, column: Column, needles: Needles, marker: str) -> int:
    """Replace every needle in `column` of every row, inside the caller's unit of work: the rows whose text
    may hold one are found by LIKE (a scan: erasure is rare), then checked and changed in Python."""
    is_json = isinstance(column.type, JSON)
    likes = needles.likes(json_text=is_json)
    if not likes:
        return 0
    text = cast(column, Text) if is_json else column
    found = s.execute(
        select(column.table.c.id, column).where(or_(*(text.like(p, escape="!") for p in likes)))
    ).all()
    changed = [(row[0], new) for row in found if (new := needles.sub(row[1], marker)) != row[1]]
    return _write(s, column, changed)


def _write(s: Session, column: Column, changed: list[tuple[int, Any]]) -> int:
    if changed:
        table = column.table
        s.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({column.name: bindparam("b_value", type_=column.type)}),
            [{"b_id": i, "b_value": v} for i, v in changed],
        )
    return len(changed)
