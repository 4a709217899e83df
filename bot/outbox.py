"""Enqueue posts in the same transaction as the change they report; delivery reads them later."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage.models import OutboxMessage
from storage.upsert import insert_ignoring


def enqueue(
    s: Session, *, key: str, kind: str, now: datetime, channel: str | None = None, payload: dict[str, Any] | None = None
) -> bool:
    """Add one post unless a post with this key exists already; True when it was added."""
    stmt = insert_ignoring(s, OutboxMessage.__table__, ["key"]).values(
        key=key, kind=kind, channel=channel, payload=payload or {}, state="pending",
        attempts=0, not_before=now, created_at=now,
    )
    return s.execute(stmt).rowcount == 1


def enqueue_many(s: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """Bulk form of enqueue for keys known to be new (e.g. cases opened in this very transaction)."""
    if rows:
        s.execute(insert(OutboxMessage), [
            {"channel": None, "payload": {}, **r, "state": "pending", "attempts": 0, "not_before": now, "created_at": now}
            for r in rows
        ])
