"""The audit log (SPEC §11): who looked a customer up, showed a case of a team not theirs, exported, erased or
purged, and when. Written in the caller's unit of work (`record`) or one of its own; read oldest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.model import CaseRecord
from bot.cases.permissions import is_member
from bot.clock import utcnow
from config.teams import LoopbotConfig
from storage.models import AuditLog

CUSTOMER_LOOKUP = "customer_lookup"
SHOW_OTHER_TEAM = "show_other_team"
EXPORT = "export"
ERASE = "erase"
PURGE = "purge"
KINDS = (CUSTOMER_LOOKUP, SHOW_OTHER_TEAM, EXPORT, ERASE, PURGE)
CLI = "cli"  # the actor of `loopbot` commands run in a shell
_PAGE = 1_000

_INSERT = insert(AuditLog)


def record(
    s: Session,
    *,
    actor: str,
    kind: str,
    now: datetime,
    detail: str = "",
    customer: str | None = None,
) -> None:
    """One entry, inside the caller's unit of work. `detail` never names a customer; only a lookup's
    `customer` does, and erasure and retention take that away (bot.privacy.erase, bot.delivery.retention)."""
    s.execute(
        _INSERT,
        {"at": now, "actor": actor, "kind": kind, "detail": detail, "customer": customer},
    )


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    kind: str
    detail: str
    customer: str | None

    def line(self) -> str:
        """2026-12-08 10:15:02Z  U0SUPER1  customer_lookup  customer C-1042"""
        what = self.detail
        if self.kind == CUSTOMER_LOOKUP:
            # NULL once past retention_days; erasure leaves its marker instead.
            what = f"customer {self.customer or '[removed by retention]'}"
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z  {self.actor}  {self.kind}  {what}".rstrip()


class Audit:
    """Recording what people do with customer data in Slack, and reading the log back."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config

    def customer_lookup(self, user: str, customer: str, now: datetime | None = None) -> None:
        """Every `customer ID` asked for, answered or refused: an attempt is what an audit looks for (one
        naming no customer asks for nothing)."""
        if not customer.strip():
            return
        with self.sessions.begin() as s:
            record(
                s, actor=user, kind=CUSTOMER_LOOKUP, now=now or utcnow(), customer=customer.strip()
            )

    def case_shown(self, user: str, case: CaseRecord, now: datetime | None = None) -> bool:
        """Record a `show` of a case of a team the person is not a member or supervisor of (a team that
        lists no members counts everyone a member, as bot.cases.permissions does); True if recorded."""
        team = self.config.teams.get(case.team)
        if team is not None and is_member(team, user):
            return False
        with self.sessions.begin() as s:
            record(
                s,
                actor=user,
                kind=SHOW_OTHER_TEAM,
                now=now or utcnow(),
                detail=f"{case.ref} of {case.team}",
            )
        return True

    def entries(self, since: datetime | None = None) -> Iterator[Entry]:
        """Every entry from `since` on, oldest first, a page at a time: the log only grows."""
        after: tuple[datetime, int] | None = None
        while True:
            query = select(AuditLog).order_by(AuditLog.at, AuditLog.id).limit(_PAGE)
            if since is not None:
                query = query.where(AuditLog.at >= since)
            if after is not None:
                query = query.where(tuple_(AuditLog.at, AuditLog.id) > after)
            with self.reads.begin() as s:
                page = list(s.scalars(query))
            for row in page:
                yield Entry(row.at, row.actor, row.kind, row.detail, row.customer)
            if len(page) < _PAGE:
                return
            after = (page[-1].at, page[-1].id)


def parse_since(text: str) -> datetime:
    """`--since`: a day (YYYY-MM-DD, from its midnight UTC) or an ISO 8601 instant (UTC when it has no
    offset). Raises ValueError saying what to write."""
    try:
        at = datetime.fromisoformat(text.strip())
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):  # an instant before year 1 in UTC overflows
        raise ValueError(
            f"--since {text!r} is not a date: write YYYY-MM-DD or an ISO 8601 time"
        ) from None
