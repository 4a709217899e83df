"""What a /feedback line means once parsed (bot.slack.grammar): one frozen dataclass per subcommand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

ListFilter = Literal["open", "overdue", "mine", "all"]
FILTERS: tuple[ListFilter, ...] = ("open", "overdue", "mine", "all")
ActionFilter = Literal["open", "overdue", "all"]
ACTION_FILTERS: tuple[ActionFilter, ...] = ("open", "overdue", "all")
CHART_KINDS = ("csat", "nps", "ces", "volume", "ttr", "pareto", "sla")
# Mirrors bot.cases.checks.OUTCOMES (a test keeps them equal); importing it would pull in the database layer.
OUTCOMES = ("fixed", "workaround", "no_action", "duplicate")
MAX_PERIOD_DAYS = 730
# The feedback fields `stats` and `chart` break down by (SPEC §9), and the charts that take a breakdown.
BY_FIELDS = ("segment", "touchpoint", "category", "channel")
BY_CHARTS = ("csat", "nps", "ces", "volume")
MAX_SILENCE = timedelta(days=7)
ALL_TEAMS = "all"


@dataclass(frozen=True)
class Period:
    days: int
    text: str  # as the person wrote it, normalised: "30d", "4w"


DEFAULT_PERIOD = Period(30, "30d")


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListCases:
    team: str | None  # None: the channel's team
    filter: ListFilter = "open"
    explicit_filter: bool = (
        False  # False: the default applied; the handler may pick another (e.g. no team)
    )


@dataclass(frozen=True)
class Show:
    case_id: int


@dataclass(frozen=True)
class Ack:
    case_id: int


@dataclass(frozen=True)
class Assign:
    case_id: int
    user: str  # a Slack user id, or "me"


@dataclass(frozen=True)
class Note:
    case_id: int
    text: str


@dataclass(frozen=True)
class Resolve:
    case_id: int
    cause: str | None = None
    outcome: str | None = None
    action: str | None = None  # None: the handler opens the resolve modal
    attach: int | None = None  # action=CA-n: the open corrective action this case joins


@dataclass(frozen=True)
class Reopen:
    case_id: int
    reason: str


@dataclass(frozen=True)
class Digest:
    team: str | None


@dataclass(frozen=True)
class Chart:
    kind: str
    team: str | None  # None: the channel's team; "all": every team
    period: Period = DEFAULT_PERIOD
    by: str | None = None  # one of BY_FIELDS: one series per group


@dataclass(frozen=True)
class Stats:
    team: str | None  # None: the channel's team; "all": every team
    period: Period = DEFAULT_PERIOD
    by: str | None = None  # one of BY_FIELDS: one row per group
    categories: bool = False  # the keyword categories against the causes supervisors chose


@dataclass(frozen=True)
class ListActions:
    team: str | None  # None: the channel's team; "all": every team
    filter: ActionFilter = "open"


@dataclass(frozen=True)
class ShowAction:
    action_id: int


@dataclass(frozen=True)
class Plan:
    team: str
    cause: str  # lowercased; the core checks it is a category or "other"
    due: str  # as written; the core reads YYYY-MM-DD or ISO-8601 with an offset
    owner: str  # a Slack user id, or "me"
    text: str


@dataclass(frozen=True)
class Done:
    action_id: int
    live: str | None  # as written, like Plan.due; None: live now
    text: str


@dataclass(frozen=True)
class Drop:
    action_id: int
    reason: str


@dataclass(frozen=True)
class Silence:
    team: str
    rule: str  # `all`, a metric, `complaints:CATEGORY`, `spc:METRIC`: the core matches it to rules
    duration: timedelta
    reason: str


@dataclass(frozen=True)
class ListSilences:
    team: str | None  # None: the channel's team (every team in other channels); "all": every team


@dataclass(frozen=True)
class Unsilence:
    silence_id: int


@dataclass(frozen=True)
class CustomerView:
    customer: str


@dataclass(frozen=True)
class Usage:
    """What was wrong and what to type instead; shown ephemerally."""

    message: str


Command = (
    Help
    | ListCases
    | Show
    | Ack
    | Assign
    | Note
    | Resolve
    | Reopen
    | Digest
    | Chart
    | Stats
    | ListActions
    | ShowAction
    | Plan
    | Done
    | Drop
    | Silence
    | ListSilences
    | Unsilence
    | CustomerView
    | Usage
)
