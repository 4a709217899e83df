"""The YAML team configuration of SPEC §3 as pydantic models (loading and inheritance: config.loader)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from math import inf
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from config.cron import parse_cron
from config.fields import (
    DEFAULT_BASELINE,
    RULES,
    SPC_METRICS,
    Baseline,
    ChannelId,
    CronField,
    Duration,
    Integer,
    Metric,
    Number,
    Privacy,
    Problems,
    RetentionDays,
    Section,
    TeamKey,
    Text,
    TimeZoneName,
    UserId,
    UserIds,
    Weeks,
    at_least_1,
    at_most,
    fmt_duration,
    not_configured,
    required,
    scale,
    segment_key,
    segment_problems,
    show,
)
from config.sources import Sources

# --- the models -------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sla(_Model):
    """How soon a case must be acknowledged and resolved, counted from when it opened."""

    ack: Duration
    resolve: Duration

    @model_validator(mode="after")
    def _ack_first(self) -> Sla:
        if self.ack > self.resolve:
            raise ValueError(
                f"ack ({fmt_duration(self.ack)}) is longer than resolve ({fmt_duration(self.resolve)}); "
                "the acknowledge deadline cannot come after the resolve deadline"
            )
        return self


def _by_segment(slas: dict[Any, Sla]) -> dict[str, Sla]:
    # parse_config reports the names from the raw YAML, each at its key, and drops this error type.
    problems = segment_problems(slas)
    if problems:
        raise PydanticCustomError("segment_name", "{problem}", {"problem": problems[0][1]})
    return {cast(str, segment_key(name)): sla for name, sla in slas.items()}


# Segment name -> its SLA (SPEC §9), keyed by segment_key: a case of that segment is held to it.
SlaBySegment = Annotated[dict[Any, Sla], AfterValidator(_by_segment)]


class OpenCaseWhen(_Model):
    """Which single responses are negative and open a case."""

    csat_at_most: Annotated[Integer, scale(1, 5, "CSAT")] = 2
    nps_at_most: Annotated[Integer, scale(0, 10, "NPS")] = 6
    ces_at_least: Annotated[Integer, scale(1, 7, "CES")] = 5


def threshold_problems(rule: dict[str, Any], categories: Collection[str] | None) -> Problems:
    """What is inconsistent between the keys of one threshold (raw YAML or validated), and where inside it.

    `categories=None` skips the check that a complaints category is configured.
    """
    metric, kind = rule.get("metric"), rule.get("rule")
    if metric not in RULES:
        return []  # the metric's own error says what to write; everything below depends on it
    if kind is not None and kind != "spc":
        return [
            (
                ("rule",),
                f"{show(kind)} is not a kind of rule; write rule: spc for a statistical rule "
                "(daily points against limits from a baseline), or leave rule out for a fixed threshold",
            )
        ]
    problems = _spc_problems(rule) if kind == "spc" else _fixed_problems(rule)
    if kind == "spc" and metric not in SPC_METRICS:
        return problems  # a cases rule has no category to check either
    category = rule.get("category")
    rules = "rules" if kind == "spc" else "thresholds"
    if metric != "complaints" and category is not None:
        problems.append(
            (
                ("category",),
                f"only complaints {rules} take a category; remove it, or use metric: complaints",
            )
        )
    elif metric == "complaints" and category is None:
        known = f" (configured: {', '.join(categories)})" if categories else ""
        problems.append(
            (("category",), f"is missing; a complaints {rules[:-1]} counts one category{known}")
        )
    elif (
        metric == "complaints"
        and categories is not None
        and isinstance(category, str)
        and category not in categories
    ):
        problems.append(
            (("category",), not_configured(category, "category", "categories", categories))
        )
    return problems


def _fixed_problems(rule: dict[str, Any]) -> Problems:
    metric = rule["metric"]
    want, low, high, fires = RULES[metric]
    given = [key for key in ("below", "above") if rule.get(key) is not None]
    problems: Problems = []
    if not given:
        problems.append(((), f"needs {want}: a {metric} alert fires when {fires}"))
    elif len(given) == 2:
        problems.append(
            (
                (),
                f"gives both below and above; a {metric} threshold takes only {want} "
                f"(an alert fires when {fires})",
            )
        )
    elif given[0] != want:
        problems.append(
            (
                (given[0],),
                f"{metric} thresholds use {want}, not {given[0]}: an alert fires when {fires}",
            )
        )
    value = rule.get(want)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
        allowed = "0 or more" if high == inf else f"between {low} and {high}"
        problems.append(((want,), f"must be {allowed} for {metric}, not {show(value)}"))
    if rule.get("window") is None:
        # Optional in the model only because SPC rules have none: a fixed threshold still needs one.
        problems.append(
            (
                ("window",),
                "is missing; say over which period the metric is computed, e.g. window: 24h",
            )
        )
    if rule.get("baseline") is not None:
        problems.append(
            (
                ("baseline",),
                "only spc rules take a baseline; add rule: spc, or remove it for a fixed threshold",
            )
        )
    return problems


def _spc_problems(rule: dict[str, Any]) -> Problems:
    metric = rule["metric"]
    if metric not in SPC_METRICS:
        return [
            (
                ("metric",),
                f"{metric} is not an SPC metric: spc rules judge csat, nps, ces or complaints "
                f"(per response); count {metric} with a fixed threshold, e.g. "
                f"{{metric: {metric}, above: 10, window: 1h}}",
            )
        ]
    problems: Problems = []
    for key in ("below", "above"):
        if rule.get(key) is not None:
            problems.append(
                (
                    (key,),
                    f"an spc rule takes no {key}: its limits come from the baseline weeks; "
                    f"remove it, or remove rule: spc for a fixed threshold",
                )
            )
    if rule.get("window") is not None:
        problems.append(
            (
                ("window",),
                "an spc rule takes no window: it judges each local day against the baseline "
                "weeks before it; remove it (baseline: 8w sets how far back the limits look)",
            )
        )
    return problems


class Threshold(_Model):
    """An alert rule on a team's metric.

    Fixed (no `rule`): a case opens when `metric` crosses `below` / `above` over the last `window`.
    SPC (`rule: spc`): each local day is judged against limits from the `baseline` weeks before it, with the
    Western Electric rules (bot.alerts.spc); a case opens on a signal in the bad direction.
    """

    metric: Metric
    rule: StrictStr | None = (
        None  # None (fixed) or "spc"; other words are reported by threshold_problems
    )
    below: Number | None = None
    above: Number | None = None
    window: Duration | None = None  # fixed rules only (threshold_problems requires it there)
    baseline: Baseline | None = None  # spc rules only; DEFAULT_BASELINE when left out
    min_responses: Annotated[
        Integer, at_least_1("a rule fires only once its window holds this many responses")
    ] = 10
    category: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_baseline(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("rule") == "spc" and data.get("baseline") is None:
            return {**data, "baseline": DEFAULT_BASELINE}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Threshold:
        # parse_config reports these from the raw YAML, next to any field errors, and drops this error type.
        problems = threshold_problems(self.model_dump(), None)
        if problems:
            raise PydanticCustomError("threshold_rule", "{problem}", {"problem": problems[0][1]})
        return self

    @property
    def is_spc(self) -> bool:
        return self.rule == "spc"

    @property
    def comparison(self) -> Literal["below", "above"]:
        """Fixed: the side the rule watches; SPC: the bad direction (CSAT, NPS below; CES, complaints above)."""
        if self.is_spc:
            return cast(Literal["below", "above"], RULES[self.metric][0])
        return "below" if self.below is not None else "above"

    @property
    def value(self) -> float:
        """The fixed threshold (fixed rules only)."""
        return self.below if self.below is not None else cast(float, self.above)


class Category(_Model):
    """A complaint category; ingestion assigns it when a comment contains one of its keywords."""

    domain: Text
    keywords: Annotated[
        list[Text], required("needs at least one keyword: comments containing it get this category")
    ]
    # What to do for a customer with this complaint: shown on case messages and in the resolve modal.
    playbook: Annotated[list[Text], at_most(10, "the playbook shows on every case message")] = []
    # Who answers for the cause: mentioned when it turns systemic (SPEC §8).
    owner: UserId | None = None


class Team(_Model):
    """A team, fully resolved: whatever its YAML leaves out is inherited from `defaults`."""

    key: TeamKey
    name: Text
    channel: ChannelId
    supervisors: Annotated[
        UserIds, required("needs at least one supervisor: they resolve cases and get escalations")
    ]
    members: UserIds = []  # empty: anyone may act as a member of this team
    timezone: TimeZoneName
    huddle: CronField
    sla: Sla
    open_case_when: OpenCaseWhen
    thresholds: list[Threshold] = []
    verify_window: Weeks = timedelta(weeks=2)
    verify_min_responses: Annotated[
        Integer, at_least_1("a window with fewer responses makes a verification inconclusive")
    ] = 30
    recurrence_window: Duration = timedelta(days=30)
    systemic_after: Annotated[
        Integer, at_least_1("resolutions of one cause that open a systemic case")
    ] = 5
    sla_by_segment: SlaBySegment = {}
    # team: list, show and digest of its cases are for its members, supervisors and leaders (SPEC §11).
    privacy: Privacy = "open"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def sla_for(self, segment: str | None) -> Sla:
        """The SLA of a case of `segment`: its segment's own when configured, else the team's."""
        key = segment_key(segment)
        return self.sla_by_segment.get(key, self.sla) if key else self.sla


class Defaults(_Model):
    """What every team inherits; `Defaults()` holds the built-in values."""

    timezone: TimeZoneName = "UTC"
    huddle: CronField = Field(default_factory=lambda: parse_cron("0 9 * * mon-fri"))
    sla: Sla = Field(
        default_factory=lambda: Sla(ack=timedelta(minutes=30), resolve=timedelta(days=2))
    )
    open_case_when: OpenCaseWhen = Field(default_factory=OpenCaseWhen)
    thresholds: list[Threshold] = []
    verify_window: Weeks = timedelta(weeks=2)
    verify_min_responses: Annotated[
        Integer, at_least_1("a window with fewer responses makes a verification inconclusive")
    ] = 30
    recurrence_window: Duration = timedelta(days=30)
    systemic_after: Annotated[
        Integer, at_least_1("resolutions of one cause that open a systemic case")
    ] = 5
    sla_by_segment: SlaBySegment = {}
    privacy: Privacy = "open"


class LoopbotConfig(_Model):
    """The whole YAML, resolved. load_config/parse_config also check the references between sections."""

    defaults: Defaults = Field(default_factory=Defaults)
    leaders: UserIds = []
    leaders_channel: ChannelId | None = None
    weekly_summary: CronField | None = None
    teams: dict[str, Team]
    categories: dict[str, Category] = {}
    routing: dict[str, str] = {}
    retention_days: RetentionDays = 730
    sources: Sources = Field(default_factory=Sources)  # survey tools' webhooks (SPEC §10)

    @property
    def defaults_tz(self) -> ZoneInfo:
        """The zone of config-wide schedules (the weekly summary)."""
        return ZoneInfo(self.defaults.timezone)

    def team_for_channel(self, channel_id: str) -> Team | None:
        return next((team for team in self.teams.values() if team.channel == channel_id), None)

    def route(self, team: str | None, touchpoint: str | None) -> Team | None:
        """The owning team: `team` decides when given (None if not configured), else the touchpoint's route."""
        if team:
            return self.teams.get(team)
        target = self.routing.get(touchpoint) if touchpoint else None
        return self.teams.get(target) if target else None


class Document(_Model):
    """The file's top level; defaults, teams and categories are then checked one by one."""

    defaults: Section = {}
    leaders: UserIds = []
    leaders_channel: ChannelId | None = None
    weekly_summary: CronField | None = None
    teams: Annotated[Section, required("needs at least one team")]
    categories: Section = {}
    routing: Section = {}
    retention_days: RetentionDays = 730
    sources: Section = {}
