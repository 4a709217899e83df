"""Scheduled fires claimed in the database: of several replicas firing the same job, one inserts the row and acts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, text
from sqlalchemy.orm import Session

from storage.models import Claim

# Written once as text (SQLite and PostgreSQL spell ON CONFLICT alike), like the outbox insert.
_CLAIM = text(
    "INSERT INTO claims (job, scope, fire_at, claimed_at, claimed_by) "
    "VALUES (:job, :scope, :fire_at, :claimed_at, :claimed_by) ON CONFLICT DO NOTHING"
).bindparams(
    *(
        bindparam(n, type_=Claim.__table__.c[n].type)
        for n in ("job", "scope", "fire_at", "claimed_at", "claimed_by")
    )
)


def claim(s: Session, *, job: str, scope: str, fire_at: datetime, now: datetime, by: str) -> bool:
    """True for the one caller that claims this fire; the claim commits with the work it guards, so a
    crash before the commit leaves the fire unclaimed for the next attempt, and after it, done."""
    params = {
        "job": job,
        "scope": scope,
        "fire_at": fire_at,
        "claimed_at": now,
        "claimed_by": by[:128],
    }
    return s.execute(_CLAIM, params).rowcount == 1


def claimed(s: Session, *, job: str, scope: str, fire_at: datetime) -> bool:
    return s.get(Claim, (job, scope, fire_at)) is not None


def prune(s: Session, before: datetime) -> int:
    """Forget fires older than `before` (retention); a fire that old is never attempted again."""
    return s.execute(
        delete(Claim).where(Claim.fire_at < before).execution_options(synchronize_session=False)
    ).rowcount


KEEP = timedelta(days=30)
