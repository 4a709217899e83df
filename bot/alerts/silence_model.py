"""What the silences core hands out (plain frozen records) and how people write a silence: its id, RULE and
duration (SPEC §9)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.cases.checks import SYSTEM_ACTOR
from bot.errors import InvalidInput
from config.durations import parse_duration
from config.fields import fmt_duration
from config.teams import Team
from storage.models import Silence, SilencedBreach

METRICS = ("csat", "nps", "ces", "cases", "complaints")
SPC = "spc"
ALL = "all"
# SPEC §9: a silence lasts at most a week; one still needed then is started again, on purpose.
MAX_DURATION = timedelta(days=7)
DURATION_HINT = "90m, 4h or 2d, at most 7d"
GRAMMAR = "`all`, a metric (`csat`, `nps`, `ces`, `cases`, `complaints`), `complaints:CATEGORY`, `spc:csat`"
_REF = re.compile(r"^\s*(?:s-)?(\d{1,18})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Pattern:
    """A parsed RULE: `spc` restricts it to statistical rules, `metric` and `category` to theirs."""

    spc: bool = False
    metric: str | None = None
    category: str | None = None

    def matches(self, rule: Any) -> bool:
        if self.spc and not is_spc(rule):
            return False
        if self.metric is not None and rule.metric != self.metric:
            return False
        return self.category is None or rule.category == self.category


def parse_pattern(text: str) -> Pattern | None:
    """`all`, `csat`, `complaints:late_delivery`, `spc`, `spc:csat`, `spc:complaints:late_delivery`; None when
    it is none of these."""
    parts = (text or "").strip().lower().split(":")
    spc = parts[0] == SPC
    if spc:
        parts = parts[1:]
    if parts in ([ALL], []):  # `all`, `spc` (every statistical rule) and `spc:all`
        return Pattern(spc=spc)
    metric, *rest = parts
    if metric not in METRICS or len(rest) > 1 or (rest and (metric != "complaints" or not rest[0])):
        return None
    return Pattern(spc=spc, metric=metric, category=rest[0] if rest else None)


def is_spc(rule: Any) -> bool:
    # Statistical rules (SPEC §9) carry `rule: spc`; fixed thresholds have no such field.
    return getattr(rule, "rule", None) == SPC


def rule_name(rule: Any) -> str:
    """What RULE names this rule by: csat, complaints:late_delivery, spc:csat."""
    name = f"{rule.metric}:{rule.category}" if rule.category else str(rule.metric)
    return f"{SPC}:{name}" if is_spc(rule) else name


def rule_label(rule: Any) -> str:
    """The rule in a few words for people: `csat below 80 over 24h`, `spc:csat (8w baseline)`."""
    if is_spc(rule):
        baseline = getattr(rule, "baseline", None)
        return rule_name(rule) + (f" ({fmt_duration(baseline)} baseline)" if baseline else "")
    value = rule.value
    shown = int(value) if float(value).is_integer() else value
    return f"{rule_name(rule)} {rule.comparison} {shown} over {fmt_duration(rule.window)}"


def rules_of(team: Team, pattern: str) -> list[Any]:
    """The team's rules that `pattern` names (none when it names none, or cannot be read)."""
    parsed = parse_pattern(pattern)
    return [] if parsed is None else [r for r in team.thresholds if parsed.matches(r)]


def matching(team: Team, pattern: str) -> list[Any]:
    """The team's rules that `pattern` names, or the error that says what its rules are called."""
    rules = rules_of(team, pattern)
    if rules:
        return rules
    names = list(dict.fromkeys(rule_name(r) for r in team.thresholds))
    if not names:
        raise InvalidInput(
            f"{team.name} has no threshold rules, so there is nothing to silence.", field="rule"
        )
    known = ", ".join(f"`{n}`" for n in names)
    shown = (pattern or "").strip()[:60]
    if parse_pattern(pattern) is None:
        problem = f"`{shown}` is not a rule: write {GRAMMAR} or a rule of the team."
    else:
        problem = f"No rule of {team.name} matches `{shown}`."
    raise InvalidInput(f"{problem} Its rules: {known}, or `all`.", field="rule")


def parse_silence_duration(text: str | timedelta) -> timedelta:
    """90m, 4h, 2d (the config's spelling), positive and at most 7d."""
    if isinstance(text, timedelta):
        duration = text
    else:
        try:
            duration = parse_duration(str(text or "").strip().lower())
        except ValueError:
            raise InvalidInput(
                f"`{str(text).strip()[:40]}` is not a duration: write {DURATION_HINT}.",
                field="duration",
            ) from None
    if duration <= timedelta(0):
        raise InvalidInput(
            f"A silence needs a duration after now: write {DURATION_HINT}.", field="duration"
        )
    if duration > MAX_DURATION:
        raise InvalidInput(
            f"A silence lasts at most 7d; `{fmt_duration(duration)}` is longer. Silence again when it "
            "ends if you still need to.",
            field="duration",
        )
    return duration


def parse_silence_ref(text: str | int) -> int:
    """S-3, s-3 and 3."""
    if isinstance(text, int):
        return text
    m = _REF.match(text or "")
    if not m:
        raise InvalidInput(
            f"`{str(text).strip()[:40]}` is not a silence id; write it like S-3 (`silences` lists them).",
            field="silence",
        )
    return int(m.group(1))


@dataclass(frozen=True)
class SilenceRecord:
    """A silence; `rules` are the labels of the team's rules it silences now, `breaches` the episodes it kept
    quiet so far."""

    id: int
    team: str
    pattern: str
    reason: str
    created_by: str
    source: str
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_source: str | None = None
    version: int = 1
    rules: tuple[str, ...] = ()
    breaches: int = 0

    @property
    def ref(self) -> str:
        return f"S-{self.id}"

    @property
    def expired(self) -> bool:
        """Ended by time, not by a person."""
        return self.ended_by == SYSTEM_ACTOR

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.starts_at <= now < self.ends_at

    @classmethod
    def of(cls, row: Silence, rules: Sequence[str] = (), breaches: int = 0) -> SilenceRecord:
        return cls(
            id=row.id,
            team=row.team,
            pattern=row.pattern,
            reason=row.reason,
            created_by=row.created_by,
            source=row.source,
            created_at=row.created_at,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            ended_at=row.ended_at,
            ended_by=row.ended_by,
            ended_source=row.ended_source,
            version=row.version,
            rules=tuple(rules),
            breaches=breaches,
        )


@dataclass(frozen=True)
class BreachRecord:
    """One rule's breach episode within a silence; `recovered_at` None and not `open`: still breached when
    the silence ended (its case opens at the next evaluation)."""

    silence_id: int
    team: str
    rule_key: str
    rule: str  # its label (rule_label), as the team's rules are configured now
    first_at: datetime
    last_at: datetime
    value: float | None
    n: int
    recovered_at: datetime | None
    open: bool

    @classmethod
    def of(cls, row: SilencedBreach, rule: str) -> BreachRecord:
        return cls(
            row.silence_id,
            row.team,
            row.rule_key,
            rule,
            row.first_at,
            row.last_at,
            row.value,
            row.n,
            row.recovered_at,
            row.open_key is not None,
        )


@dataclass(frozen=True)
class SilenceDetail:
    silence: SilenceRecord
    breaches: list[BreachRecord]


@dataclass(frozen=True)
class BreachCount:
    """`stats`: a rule's breach episodes kept quiet by silences in a period."""

    team: str
    rule_key: str
    rule: str
    episodes: int
    first_at: datetime
    last_at: datetime
