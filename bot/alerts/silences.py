"""Silences (SPEC §9): start, end, expire and list them, each change one unit of work with its channel post;
which rules are silenced when rules are evaluated, and the breaches silences kept quiet."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

# Re-exported: rule evaluation (bot.alerts.thresholds) calls these with its own session.
from bot.alerts.silence_breaches import (
    breach_counts,
    close_episodes,
    label_of,
    open_breaches,
    record_breach,
    record_recovery,
    rule_labels,
    silenced_rule_keys,
    silenced_rules,
)
from bot.alerts.silence_model import (
    BreachCount,
    BreachRecord,
    SilenceDetail,
    SilenceRecord,
    matching,
    parse_silence_duration,
    parse_silence_ref,
    rule_label,
    rules_of,
)
from bot.cases.checks import SYSTEM_ACTOR, required_text
from bot.cases.permissions import is_leader, is_supervisor, named_team
from bot.clock import utcnow
from bot.delivery.outbox import SILENCE_END, SILENCE_START, enqueue
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from bot.feedback.pii import mask
from config.teams import LoopbotConfig, Team
from storage.models import Silence, SilencedBreach

__all__ = [
    "Silences",
    "open_breaches",
    "record_breach",
    "record_recovery",
    "silenced_rule_keys",
    "silenced_rules",
]
log = logging.getLogger("loopbot.silences")

REASON_LIMIT = 500  # a reason is one line in a channel post, the digest and App Home
# Silences ended per run; a backlog larger than this is caught up the next minute.
EXPIRE_BATCH = 500
JOB = "job"


class Silences:
    """Each public method that changes a silence is one unit of work: the row and its post commit together,
    so a post is never lost or doubled by a crash or a second replica."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config

    # -- changes -------------------------------------------------------------------------------------

    def start(
        self,
        team: str,
        rule: str,
        duration: str | timedelta,
        reason: str,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> SilenceRecord:
        """`silence TEAM RULE|all DURATION REASON`: supervisors of the team and leaders."""
        now = now or utcnow()
        the_team = named_team(self.config, (team or "").strip().lower())
        _require(self.config, the_team, actor, "silence its alerts")
        rules = matching(the_team, rule)
        length = parse_silence_duration(duration)
        why = _reason(reason)
        pattern = rule.strip().lower()
        active_key = f"{the_team.key}:{pattern}"
        with self.sessions.begin() as s:
            # One of these rules' silences that ran out a moment ago ends here, before the job gets to it.
            for sid in _due(s, now, the_team.key):
                _expire_one(s, self.config, sid, now)
            # Looked up first, so a refusal costs no id (PostgreSQL's sequence counts a failed insert too);
            # the unique key still decides between two people silencing the same rules at once.
            other = s.scalar(select(Silence).where(Silence.active_key == active_key))
            if other is not None:
                raise _silenced_already(other, the_team)
            row = Silence(
                team=the_team.key,
                pattern=pattern,
                reason=why,
                created_by=actor,
                source=source,
                created_at=now,
                starts_at=now,
                ends_at=now + length,
                version=1,
                active_key=active_key,
            )
            try:
                # A savepoint: PostgreSQL aborts the whole transaction on an error; this keeps the unit.
                with s.begin_nested():
                    s.add(row)
                    s.flush()
            except IntegrityError:
                other = s.scalar(select(Silence).where(Silence.active_key == active_key))
                if other is None:  # ended in between: nothing is silenced twice, just try again
                    raise InvalidTransition("That silence just changed; try again.") from None
                raise _silenced_already(other, the_team) from None
            enqueue(
                s,
                key=f"silence:{row.id}:start",
                kind=SILENCE_START,
                channel=the_team.channel,
                payload={"silence_id": row.id},
                now=now,
            )
            log.info("%s silences %s of %s until %s", row.ref, pattern, the_team.key, row.ends_at)
            return SilenceRecord.of(row, [rule_label(r) for r in rules])

    def end(
        self, ref: str | int, actor: str, source: str, now: datetime | None = None
    ) -> SilenceRecord:
        """`unsilence S-n`: supervisors of the silence's team and leaders; the second of two is told who
        got there first."""
        now = now or utcnow()
        sid = parse_silence_ref(ref)
        with self.sessions.begin() as s:
            row = _load(s, sid)
            team = self.config.teams.get(row.team)
            _require(self.config, team, actor, "end its silences", row.team)
            if row.ended_at is not None:
                raise _ended(row, team)
            if row.ends_at <= now:
                raise InvalidTransition(
                    f"{row.ref} already ended at {{at}}; `silences` lists the active ones.",
                    at=row.ends_at,
                    tz=team.tz if team else None,
                )
            changed = s.execute(
                update(Silence)
                .where(
                    Silence.id == sid, Silence.version == row.version, Silence.ended_at.is_(None)
                )
                .values(
                    ended_at=now,
                    ended_by=actor,
                    ended_source=source,
                    active_key=None,
                    version=row.version + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            s.refresh(row)
            if changed != 1:  # someone (or a retry) ended it between our read and our update
                raise _ended(row, team)
            _ended_in(s, self.config, row, now)
            log.info("%s ended early by %s", row.ref, actor)
            return self._record(s, row)

    def expire(self, now: datetime | None = None) -> list[SilenceRecord]:
        """The every-minute job: end the silences whose time is up, each in its own unit; after a restart this
        catches up on all of them. Safe to run on several replicas at once: each ends once."""
        now = now or utcnow()
        with self.reads.begin() as s:
            due = _due(s, now)
        ended: list[SilenceRecord] = []
        for sid in due:
            try:
                with self.sessions.begin() as s:
                    record = _expire_one(s, self.config, sid, now)
                    if record is not None:
                        ended.append(self._record(s, record))
            except Exception:
                log.exception("silence S-%s could not be ended; the next run tries again", sid)
        return ended

    # -- reading -------------------------------------------------------------------------------------

    def get(self, ref: str | int) -> SilenceDetail:
        """One silence with the breaches it kept quiet."""
        sid = parse_silence_ref(ref)
        with self.reads.begin() as s:
            row = _load(s, sid)
            found = s.scalars(
                select(SilencedBreach)
                .where(SilencedBreach.silence_id == sid)
                .order_by(SilencedBreach.first_at, SilencedBreach.id)
            ).all()
            labels = self._labels(row.team)
            breaches = [BreachRecord.of(b, label_of(labels, b.rule_key)) for b in found]
            return SilenceDetail(self._record(s, row, len(breaches)), breaches)

    def breaches(
        self, teams: Iterable[str] | None, since: datetime, until: datetime
    ) -> list[BreachCount]:
        """`stats`: per team and rule, the breach episodes silences kept quiet that overlap [since, until)."""
        query = (
            select(
                SilencedBreach.team,
                SilencedBreach.rule_key,
                func.count(),
                func.min(SilencedBreach.first_at),
                func.max(SilencedBreach.last_at),
            )
            .where(SilencedBreach.first_at < until, SilencedBreach.last_at >= since)
            .group_by(SilencedBreach.team, SilencedBreach.rule_key)
            .order_by(SilencedBreach.team, SilencedBreach.rule_key)
        )
        if teams is not None:
            query = query.where(SilencedBreach.team.in_(list(teams)))
        with self.reads.begin() as s:
            rows = s.execute(query).all()
        labels = {team: self._labels(team) for team in {r[0] for r in rows}}
        return [
            BreachCount(team, key, label_of(labels[team], key), n, first, last)
            for team, key, n, first, last in rows
        ]

    def _labels(self, team_key: str) -> dict[str, str]:
        return rule_labels(self.config.teams.get(team_key))

    def _record(self, s: Session, row: Silence, breaches: int | None = None) -> SilenceRecord:
        if breaches is None:
            breaches = breach_counts(s, [row.id]).get(row.id, 0)
        team = self.config.teams.get(row.team)
        labels = [rule_label(r) for r in rules_of(team, row.pattern)] if team else []
        return SilenceRecord.of(row, labels, breaches)

    # Last: inside the class body `list` names this method from here on.
    def list(
        self, teams: str | Iterable[str] | None = None, now: datetime | None = None
    ) -> list[SilenceRecord]:
        """`silences [TEAM]`: the active silences of a named team (checked), of the teams given (those the
        asker may see), or of every team; soonest to end first."""
        now = now or utcnow()
        if isinstance(teams, str):
            keys = [named_team(self.config, teams.strip().lower()).key]
        else:
            keys = None if teams is None else [*teams]
        query = select(Silence).where(
            Silence.ended_at.is_(None), Silence.starts_at <= now, Silence.ends_at > now
        )
        if keys is not None:
            query = query.where(Silence.team.in_(keys))
        with self.reads.begin() as s:
            rows = s.scalars(query.order_by(Silence.ends_at, Silence.id)).all()
            counts = breach_counts(s, [r.id for r in rows])
            return [self._record(s, r, counts.get(r.id, 0)) for r in rows]


# -- inside a unit ---------------------------------------------------------------------------------------


def _require(
    config: LoopbotConfig, team: Team | None, actor: str, what: str, key: str = ""
) -> None:
    if is_leader(config, actor) or (team is not None and is_supervisor(team, actor)):
        return
    if team is None:  # the team left the YAML since: only leaders remain
        raise PermissionDenied(f"Team `{key}` is no longer configured: only leaders can {what}.")
    raise PermissionDenied(
        f"Only supervisors of {team.name} ({{users}}) or leaders can {what}.",
        users=team.supervisors,
    )


def _silenced_already(other: Silence, team: Team) -> AlreadyDone:
    return AlreadyDone(
        f"{other.ref} already silences `{other.pattern}` of {team.name} until {{at}}, "
        f"started by {{user}}; `unsilence {other.ref}` first to change it.",
        user=other.created_by,
        at=other.ends_at,
        tz=team.tz,
    )


def _reason(reason: str | None) -> str:
    text = required_text(
        reason,
        "reason",
        "Say why after the duration, e.g. `silence delivery csat 4h courier strike`.",
    )
    if len(text) > REASON_LIMIT:
        raise InvalidInput(
            f"The reason is {len(text)} characters long; keep it under {REASON_LIMIT}.",
            field="reason",
        )
    # required_text masked it; masked again on one line, where a number split over lines is whole.
    return mask(" ".join(text.split()))


def _load(s: Session, sid: int) -> Silence:
    row = s.get(Silence, sid)
    if row is None:
        raise NotFound(f"There is no silence S-{sid}; `silences` lists the active ones.")
    return row


def _ended(row: Silence, team: Team | None) -> Exception:
    tz = team.tz if team else None
    if row.ended_by == SYSTEM_ACTOR:
        return InvalidTransition(f"{row.ref} already ended at {{at}}.", at=row.ended_at, tz=tz)
    return AlreadyDone(
        f"{row.ref} was already ended by {{user}} at {{at}}.",
        user=row.ended_by,
        at=row.ended_at,
        tz=tz,
    )


def _due(s: Session, now: datetime, team: str | None = None) -> list[int]:
    query = select(Silence.id).where(Silence.ended_at.is_(None), Silence.ends_at <= now)
    if team is not None:
        query = query.where(Silence.team == team)
    return list(s.scalars(query.order_by(Silence.ends_at, Silence.id).limit(EXPIRE_BATCH)))


def _expire_one(s: Session, config: LoopbotConfig, sid: int, now: datetime) -> Silence | None:
    """End a silence by time, at its ends_at; None when another unit ended it first."""
    changed = s.execute(
        update(Silence)
        .where(Silence.id == sid, Silence.ended_at.is_(None), Silence.ends_at <= now)
        .values(
            ended_at=Silence.ends_at,
            ended_by=SYSTEM_ACTOR,
            ended_source=JOB,
            active_key=None,
            version=Silence.version + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return None
    row = s.get(Silence, sid)
    if row is None:
        return None
    s.refresh(row)
    _ended_in(s, config, row, now)
    log.info("%s ended (its time ran out)", row.ref)
    return row


def _ended_in(s: Session, config: LoopbotConfig, row: Silence, now: datetime) -> None:
    """What every end does in its unit: close its open episodes (a breach still going on opens its case at
    the next evaluation) and tell the team's channel, once."""
    close_episodes(s, row.id)
    team = config.teams.get(row.team)
    if team is None:
        log.warning(
            "%s ended, but team %s is no longer configured: not announced", row.ref, row.team
        )
        return
    enqueue(
        s,
        key=f"silence:{row.id}:end",
        kind=SILENCE_END,
        channel=team.channel,
        payload={"silence_id": row.id},
        now=now,
    )
