"""TTA, TTR and SLA deadlines, derived from the timeline (never stored twice)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.teams import Sla

# Resolving straight from open counts as acknowledging at that moment (SPEC §2).
ACK_KINDS = frozenset({"acknowledged", "resolved"})


@dataclass(frozen=True)
class Timings:
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    ack_due: datetime
    resolve_due: datetime

    @property
    def tta(self) -> timedelta | None:
        return None if self.acknowledged_at is None else self.acknowledged_at - self.opened_at

    @property
    def ttr(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at

    def ack_overdue(self, now: datetime) -> bool:
        return self.acknowledged_at is None and now > self.ack_due

    def resolve_overdue(self, now: datetime) -> bool:
        return self.resolved_at is None and now > self.resolve_due

    def overdue(self, now: datetime) -> bool:
        """Past either deadline in its current state."""
        return self.ack_overdue(now) or self.resolve_overdue(now)

    @property
    def ack_met(self) -> bool | None:
        """Acknowledged within SLA; None while it is still open and not yet late."""
        return None if self.acknowledged_at is None else self.acknowledged_at <= self.ack_due

    @property
    def resolve_met(self) -> bool | None:
        return None if self.resolved_at is None else self.resolved_at <= self.resolve_due


def derive(
    opened_at: datetime, state: str, events: Iterable[tuple[str, datetime]], sla: Sla
) -> Timings:
    """events: (kind, at) in timeline order."""
    acknowledged_at = resolved_at = None
    for kind, at in events:
        if kind in ACK_KINDS and acknowledged_at is None:
            acknowledged_at = at
        if kind == "resolved":
            resolved_at = at  # the last resolution counts for a reopened case
    return Timings(
        opened_at=opened_at,
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at if state == "resolved" else None,
        ack_due=opened_at + sla.ack,
        resolve_due=opened_at + sla.resolve,
    )
