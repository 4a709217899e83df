"""What rule evaluation asks of silences (SPEC §9): which of a team's rules are silenced now, and the breaches
they keep quiet, recorded as episodes (one row per rule and episode within a silence)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from bot.alerts.silence_model import rule_label, rules_of
from config.teams import Team
from storage.models import Silence, SilencedBreach


def silenced_rules(s: Session, team: Team, now: datetime) -> dict[str, int]:
    """rule key -> the silence that silences it at `now` (the oldest, when several do): one indexed query."""
    # Imported here, not at the top: bot.alerts.thresholds imports this module to call it.
    from bot.alerts.thresholds import rule_key

    found: dict[str, int] = {}
    rows = s.execute(
        select(Silence.id, Silence.pattern)
        .where(
            Silence.team == team.key,
            Silence.ended_at.is_(None),
            Silence.ends_at > now,
            Silence.starts_at <= now,
        )
        .order_by(Silence.id)
    ).all()
    for sid, pattern in rows:
        for rule in rules_of(team, pattern):
            found.setdefault(rule_key(team, rule), sid)
    return found


def silenced_rule_keys(s: Session, team: Team, now: datetime) -> set[str]:
    """The keys of the team's rules that open no case at `now`."""
    return set(silenced_rules(s, team, now))


def open_breaches(s: Session, team: Team | str) -> set[str]:
    """Rule keys of the team with a silenced breach still going on (to record its recovery)."""
    key = team if isinstance(team, str) else team.key
    return set(
        s.scalars(
            select(SilencedBreach.rule_key).where(
                SilencedBreach.team == key, SilencedBreach.open_key.is_not(None)
            )
        )
    )


def record_breach(
    s: Session,
    silence_id: int,
    team: Team | str,
    rule_key: str,
    value: float | None,
    n: int,
    now: datetime,
) -> None:
    """A silenced rule is breached at `now`: start its episode, or bring the open one up to date. One
    statement, whichever replica or evaluation runs it (ON CONFLICT on the open episode's key)."""
    s.execute(
        _RECORD,
        {
            "silence_id": silence_id,
            "team": team if isinstance(team, str) else team.key,
            "rule_key": rule_key,
            "first_at": now,
            "last_at": now,
            "value": value,
            "n": n,
            "open_key": f"{silence_id}:{rule_key}",
        },
    )


def record_recovery(s: Session, team: Team | str, rule_keys: Iterable[str], now: datetime) -> int:
    """These silenced rules read fine again: their episodes end (the next breach is a new one)."""
    keys = list(rule_keys)
    if not keys:
        return 0
    return s.execute(
        update(SilencedBreach)
        .where(
            SilencedBreach.team == (team if isinstance(team, str) else team.key),
            SilencedBreach.rule_key.in_(keys),
            SilencedBreach.open_key.is_not(None),
        )
        .values(open_key=None, recovered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def _record_statement() -> Any:
    # Text like the outbox insert: SQLite and PostgreSQL spell this upsert alike. An evaluation older than the
    # episode's last one (two at once) leaves it as it is.
    table = SilencedBreach.__table__
    names = ["silence_id", "team", "rule_key", "first_at", "last_at", "value", "n", "open_key"]
    sql = (
        f"INSERT INTO silenced_breaches ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + n for n in names)}) "
        "ON CONFLICT (open_key) DO UPDATE SET last_at = excluded.last_at, value = excluded.value, "
        "n = excluded.n WHERE excluded.last_at >= silenced_breaches.last_at"
    )
    return text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))


_RECORD = _record_statement()


def close_episodes(s: Session, silence_id: int) -> None:
    """The silence ended: its open episodes end with it, not recovered (a breach still going on opens its
    case at the next evaluation)."""
    s.execute(
        update(SilencedBreach)
        .where(SilencedBreach.silence_id == silence_id, SilencedBreach.open_key.is_not(None))
        .values(open_key=None)
        .execution_options(synchronize_session=False)
    )


def breach_counts(s: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = s.execute(
        select(SilencedBreach.silence_id, func.count())
        .where(SilencedBreach.silence_id.in_(ids))
        .group_by(SilencedBreach.silence_id)
    )
    return dict(rows.tuples().all())


def rule_labels(team: Team | None) -> dict[str, str]:
    """rule key -> label of the team's rules as configured now."""
    from bot.alerts.thresholds import rule_key  # see silenced_rules

    return {rule_key(team, r): rule_label(r) for r in team.thresholds} if team else {}


def label_of(labels: dict[str, str], key: str) -> str:
    # A rule removed from the YAML since: its key without the team, as the rule was.
    return labels.get(key) or key.split(":", 1)[-1]
