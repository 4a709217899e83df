"""The YAML team configuration of SPEC §3: pydantic models, inheritance from `defaults`, and validation."""
from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from math import inf
from typing import Annotated, Any, Literal, TypeVar, Union, cast, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer,
                      PlainValidator, Strict, StrictStr, ValidationError, model_validator)
from pydantic_core import ErrorDetails, PydanticCustomError

from config.cron import Cron, parse_cron
from config.durations import HINT, format_duration, parse_duration

Metric = Literal["csat", "nps", "ces", "cases", "complaints"]
_KEY = re.compile(r"[a-z][a-z0-9_-]*")
# A Slack token pasted under the wrong key must not be echoed into logs or CI output.
_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
_RESERVED = {
    "team": dict.fromkeys(("all", "open", "overdue", "mine"), "/feedback list and stats read it as a filter word"),
    "category": {"other": "it is always offered as a root cause"},
}
_INHERITED = ("timezone", "huddle", "sla", "open_case_when", "thresholds")
_MERGED = ("sla", "open_case_when")  # merged key by key; the other inherited keys are replaced whole
_Problems = list[tuple[tuple[str, ...], str]]  # (where inside the checked mapping, what is wrong)
# metric: (the comparison it uses, lowest and highest value, when an alert fires)
_RULES: dict[str, tuple[str, float, float, str]] = {
    "csat": ("below", 0, 100, "CSAT (the % of 4-5 scores, 0-100) falls below it"),
    "nps": ("below", -100, 100, "NPS (-100 to 100) falls below it"),
    "ces": ("above", 1, 7, "the mean CES score (1-7) rises above it"),
    "cases": ("above", 0, inf, "more cases than this open within the window"),
    "complaints": ("above", 0, inf, "more complaints of its category than this arrive within the window"),
}


class ConfigError(Exception):
    """Every problem of the configuration, one line each: `<file>: <key path>: <problem>`."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def _show(value: object) -> str:
    """A value as messages quote it (YAML spelling, shortened)."""
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:57]}..."'
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "empty"}[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return {list: "a list", dict: "a mapping"}.get(type(value), str(value))


def _describe(value: object) -> str:
    """What a value of the wrong type is, for "should be X, but is Y"."""
    kind = ("true/false" if isinstance(value, bool) else "a number" if isinstance(value, (int, float))
            else "text" if isinstance(value, str) else None)
    if kind:
        return f"{kind} ({_show(value)})"
    return _show(value) if value is None or isinstance(value, (list, dict)) else f"a {type(value).__name__} ({value})"


def _did_you_mean(word: object, options: Collection[str]) -> str:
    text = str(word).lower()
    close = difflib.get_close_matches(text, list(options), n=1) or [
        option for option in options if len(text) >= 3 and text in option.lower()][:1]  # "late" -> late_delivery
    return f" (did you mean {close[0]}?)" if close else ""


def _not_configured(value: object, what: str, plural: str, options: Collection[str]) -> str:
    hint = _did_you_mean(value, options) or (f"; configured {plural}: {', '.join(options)}" if options
                                              else f"; no {plural} are configured")
    return f"{_show(value)} is not a configured {what}{hint}"


# --- field types: each raises ValueError with the whole message an admin reads ---------------------------

def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return parse_duration(str(value))
    raise ValueError(f"should be a duration ({HINT}), but is {_describe(value)}")


def _cron(value: object) -> Cron:
    if isinstance(value, (Cron, str)):
        return value if isinstance(value, Cron) else parse_cron(value)
    raise ValueError(f'should be a cron expression in quotes such as "0 9 * * mon-fri", but is {_describe(value)}')


def _timezone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"should be a time zone name such as Europe/Paris, but is {_describe(value)}")
    try:
        ZoneInfo(value)
        return value
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        zones = sorted(available_timezones())
    wanted = value.strip().replace(" ", "_").lower()
    # Spelling suggestions only for Area/City names: for "CEST" the closest spelling is EST, six hours off.
    guess = (next((z for z in zones if z.lower() == wanted or z.lower().endswith("/" + wanted)), None)
             or next(iter(difflib.get_close_matches(value, zones, n=1) if "/" in value else []), None))
    hint = f" (did you mean {guess}?)" if guess else ""
    raise ValueError(f"{_show(value)} is not an IANA time zone{hint}; "
                     "use a name such as Europe/Paris or America/New_York")


def _slack_id(pattern: str, what: str, where: str) -> PlainValidator:
    def check(value: object) -> str:
        if isinstance(value, str) and re.fullmatch(pattern, value):
            return value
        raise ValueError(f"{_show(value)} is not a Slack {what} id: {what} ids look like {where}")
    return PlainValidator(check)


_T = TypeVar("_T")


def _check(ok: Callable[[Any], bool], problem: Callable[[Any], str]) -> AfterValidator:
    def check(value: _T) -> _T:
        if not ok(value):
            raise ValueError(problem(value))
        return value
    return AfterValidator(check)


def _scale(low: int, high: int, name: str) -> AfterValidator:
    return _check(lambda v: low <= v <= high, lambda v: f"{v} is outside the {name} scale {low}-{high}")


def _at_least_1(why: str) -> AfterValidator:
    return _check(lambda v: v >= 1, lambda v: f"must be 1 or more, not {v} ({why})")


def _required(problem: str) -> AfterValidator:
    return _check(bool, lambda _: problem)


def _empty_if_none(factory: Callable[[], object]) -> BeforeValidator:
    # A key left empty in YAML (`members:`) is None; for lists and sections that means "none".
    return BeforeValidator(lambda value: factory() if value is None else value)


def _key_problem(key: object, what: str) -> str | None:
    if isinstance(key, bool):
        return f"YAML reads yes, no, on and off as true/false: put the {what} key in quotes"
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return (f"{_show(str(key))} is not a valid {what} key: use lowercase letters, digits, - and _, "
                "starting with a letter (it is typed in Slack commands)")
    reason = _RESERVED[what].get(key)
    return f'"{key}" cannot be a {what} key: {reason}' if reason else None


def _fmt(td: timedelta) -> str:
    return format_duration(td) if td >= timedelta(0) and not td % timedelta(minutes=1) else str(td)


Duration = Annotated[timedelta, PlainValidator(_duration), PlainSerializer(format_duration, when_used="json")]
# Dumped as its text in both modes: pydantic would otherwise turn the dataclass into a dict.
CronField = Annotated[Cron, PlainValidator(_cron), PlainSerializer(str)]
TimeZoneName = Annotated[str, PlainValidator(_timezone)]
ChannelId = Annotated[str, _slack_id(r"[CG][A-Z0-9]{2,}", "channel", "C0123ABCD (in Slack, open the channel's "
                                     "details: the Channel ID is at the bottom of the About tab)")]
UserId = Annotated[str, _slack_id(r"[UW][A-Z0-9]{2,}", "user", "U0123ABCD (in Slack, open the person's profile, "
                                  "click ⋮ More, then Copy member ID)")]
_UserIds = Annotated[list[UserId], _empty_if_none(list)]
_Int = Annotated[int, Strict()]
_Number = Annotated[float, Strict()]  # strict still takes 80 for 80.0, but not true or "80"
_Text = Annotated[StrictStr, _check(lambda text: text.strip() != "", lambda _: "cannot be empty")]
_Section = Annotated[dict[Any, Any], _empty_if_none(dict)]
_RetentionDays = Annotated[_Int, _at_least_1("feedback older than this many days is purged")]
_TeamKey = Annotated[str, _check(lambda key: _key_problem(key, "team") is None, lambda key: _key_problem(key, "team"))]


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
            raise ValueError(f"ack ({_fmt(self.ack)}) is longer than resolve ({_fmt(self.resolve)}); "
                             "the acknowledge deadline cannot come after the resolve deadline")
        return self


class OpenCaseWhen(_Model):
    """Which single responses are negative and open a case."""

    csat_at_most: Annotated[_Int, _scale(1, 5, "CSAT")] = 2
    nps_at_most: Annotated[_Int, _scale(0, 10, "NPS")] = 6
    ces_at_least: Annotated[_Int, _scale(1, 7, "CES")] = 5

    def is_negative(self, metric: str, score: int) -> bool:
        if metric == "csat":
            return score <= self.csat_at_most
        if metric == "nps":
            return score <= self.nps_at_most
        if metric == "ces":
            return score >= self.ces_at_least  # CES measures effort: high is bad
        raise ValueError(f"{metric!r} is not a survey metric (csat, nps, ces)")


def _threshold_problems(rule: dict[str, Any], categories: Collection[str] | None) -> _Problems:
    """What is inconsistent between the keys of one threshold (raw YAML or validated), and where inside it.

    `categories=None` skips the check that a complaints category is configured.
    """
    metric = rule.get("metric")
    if metric not in _RULES:
        return []  # the metric's own error says what to write; everything below depends on it
    want, low, high, fires = _RULES[metric]
    given = [key for key in ("below", "above") if rule.get(key) is not None]
    problems: _Problems = []
    if not given:
        problems.append(((), f"needs {want}: a {metric} alert fires when {fires}"))
    elif len(given) == 2:
        problems.append(((), f"gives both below and above; a {metric} threshold takes only {want} "
                             f"(an alert fires when {fires})"))
    elif given[0] != want:
        problems.append(((given[0],), f"{metric} thresholds use {want}, not {given[0]}: an alert fires when {fires}"))
    value = rule.get(want)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
        allowed = "0 or more" if high == inf else f"between {low} and {high}"
        problems.append(((want,), f"must be {allowed} for {metric}, not {_show(value)}"))
    category = rule.get("category")
    if metric != "complaints" and category is not None:
        problems.append((("category",), "only complaints thresholds take a category; "
                                        "remove it, or use metric: complaints"))
    elif metric == "complaints" and category is None:
        known = f" (configured: {', '.join(categories)})" if categories else ""
        problems.append((("category",), f"is missing; a complaints threshold counts one category{known}"))
    elif metric == "complaints" and categories is not None and isinstance(category, str) and category not in categories:
        problems.append((("category",), _not_configured(category, "category", "categories", categories)))
    return problems


class Threshold(_Model):
    """An alert rule: a threshold case opens when `metric` crosses `value` over the last `window`."""

    metric: Metric
    below: _Number | None = None
    above: _Number | None = None
    window: Duration
    min_responses: Annotated[_Int, _at_least_1("a rule fires only once its window holds this many responses")] = 10
    category: StrictStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Threshold:
        # parse_config reports these from the raw YAML, next to any field errors, and drops this error type.
        problems = _threshold_problems(self.model_dump(), None)
        if problems:
            raise PydanticCustomError("threshold_rule", "{problem}", {"problem": problems[0][1]})
        return self

    @property
    def comparison(self) -> Literal["below", "above"]:
        return "below" if self.below is not None else "above"

    @property
    def value(self) -> float:
        return self.below if self.below is not None else cast(float, self.above)


class Category(_Model):
    """A complaint category; ingestion assigns it when a comment contains one of its keywords."""

    domain: _Text
    keywords: Annotated[list[_Text], _required("needs at least one keyword: comments containing it get this category")]


class Team(_Model):
    """A team, fully resolved: whatever its YAML leaves out is inherited from `defaults`."""

    key: _TeamKey
    name: _Text
    channel: ChannelId
    supervisors: Annotated[_UserIds, _required("needs at least one supervisor: they resolve cases and get escalations")]
    members: _UserIds = []  # empty: anyone may act as a member of this team
    timezone: TimeZoneName
    huddle: CronField
    sla: Sla
    open_case_when: OpenCaseWhen
    thresholds: list[Threshold] = []

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Defaults(_Model):
    """What every team inherits; `Defaults()` holds the built-in values."""

    timezone: TimeZoneName = "UTC"
    huddle: CronField = Field(default_factory=lambda: parse_cron("0 9 * * mon-fri"))
    sla: Sla = Field(default_factory=lambda: Sla(ack=timedelta(minutes=30), resolve=timedelta(days=2)))
    open_case_when: OpenCaseWhen = Field(default_factory=OpenCaseWhen)
    thresholds: list[Threshold] = []


class LoopbotConfig(_Model):
    """The whole YAML, resolved. load_config/parse_config also check the references between sections."""

    defaults: Defaults = Field(default_factory=Defaults)
    leaders: _UserIds = []
    leaders_channel: ChannelId | None = None
    weekly_summary: CronField | None = None
    teams: dict[str, Team]
    categories: dict[str, Category] = {}
    routing: dict[str, str] = {}
    retention_days: _RetentionDays = 730

    def team_for_channel(self, channel_id: str) -> Team | None:
        return next((team for team in self.teams.values() if team.channel == channel_id), None)

    def route(self, team: str | None, touchpoint: str | None) -> Team | None:
        """The owning team: `team` decides when given (None if not configured), else the touchpoint's route."""
        if team:
            return self.teams.get(team)
        target = self.routing.get(touchpoint) if touchpoint else None
        return self.teams.get(target) if target else None


class _Document(_Model):
    """The file's top level; defaults, teams and categories are then checked one by one."""

    defaults: _Section = {}
    leaders: _UserIds = []
    leaders_channel: ChannelId | None = None
    weekly_summary: CronField | None = None
    teams: Annotated[_Section, _required("needs at least one team")]
    categories: _Section = {}
    routing: _Section = {}
    retention_days: _RetentionDays = 730


# --- from pydantic's errors to lines an admin understands ----------------------------------------------------

_EXPECTED = {"string_type": "text", "int_type": "a whole number", "float_type": "a number",
             "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping of keys",
             "model_type": "a mapping of keys"}
_MISSING = {
    "channel": "every team needs the id of its Slack channel, e.g. channel: C0123ABCD",
    "supervisors": "list who resolves this team's cases, e.g. supervisors: [U0123ABCD]",
    "teams": "configure at least one team under teams:",
    "metric": "say which metric to watch: csat, nps, ces, cases or complaints",
    "window": "say over which period the metric is computed, e.g. window: 24h",
    "keywords": "list the words that put a comment in this category, e.g. keywords: [late, delay]",
}


def _allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys of the mapping at `loc` inside `model`, for "did you mean"."""
    node: Any = model
    for part in (*loc, None):
        while get_origin(node) in (Annotated, Union, types.UnionType):  # Annotated[X, ...] and X | None hold X
            node = next(arg for arg in get_args(node) if arg is not type(None))
        if part is None:
            break
        if isinstance(node, type) and issubclass(node, BaseModel):
            node = node.model_fields[str(part)].annotation if str(part) in node.model_fields else None
        else:
            node = (get_args(node) or (None,))[-1]  # list[X] and dict[K, X] hold X
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [name for name in node.model_fields if name != "key"]  # a team's key is its name under teams:
    return []


def _explain(err: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, loc, ctx = err["type"], err.get("input"), err["loc"], err.get("ctx", {})
    if kind == "value_error":
        return str(ctx.get("error", "has a value that is not allowed here"))
    if kind == "missing":
        hint = _MISSING.get(str(loc[-1])) if loc else None
        return f"is missing; {hint}" if hint else "is missing"
    if kind in ("extra_forbidden", "invalid_key"):
        allowed = _allowed_keys(model, loc[:-1])
        return "unknown key" + (_did_you_mean(loc[-1], allowed) or f"; the keys allowed here are {', '.join(allowed)}")
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{_show(value)} is not one of {', '.join(options)}{_did_you_mean(value, options)}"
    if kind in _EXPECTED:
        return f"should be {_EXPECTED[kind]}, but is {_describe(value)}"
    return f"has a value that is not allowed here ({_describe(value)})"  # never pydantic's own wording


_M = TypeVar("_M", bound=BaseModel)


class _Report:
    """Collects problems and hands them out as `<file>: <key path>: <problem>` lines, in document order."""

    def __init__(self, source: str, data: dict[Any, Any]):
        self.source, self.data = source, data
        self.problems: list[tuple[tuple[Any, ...], str]] = []

    def add(self, loc: Sequence[Any], problem: str) -> None:
        self.problems.append((tuple(loc), problem))

    def validate(self, model: type[_M], data: object, loc: tuple[str, ...]) -> _M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                if err["type"] != "threshold_rule":  # thresholds() reports those, from the raw YAML
                    where = () if err["loc"] == ("key",) else err["loc"]  # a team's key is the mapping key above it
                    self.add((*loc, *where), _explain(err, model))
            return None

    def thresholds(self, rules: object, loc: tuple[str, ...], categories: Collection[str]) -> None:
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            for where, problem in _threshold_problems(rule, categories) if isinstance(rule, dict) else []:
                self.add((*loc, "thresholds", i, *where), problem)

    def _position(self, loc: tuple[Any, ...]) -> list[int]:
        # Where the key sits in the file, so lines read top to bottom; keys the file lacks follow their siblings.
        node, position = self.data, []
        for part in loc:
            children = (list(node.items()) if isinstance(node, dict)
                        else list(enumerate(node)) if isinstance(node, list) else [])
            index = next((i for i, (k, _) in enumerate(children) if str(k) == str(part)), len(children))
            position.append(index)
            node = children[index][1] if index < len(children) else None
        return position

    def lines(self) -> list[str]:
        lines: list[str] = []
        for loc, problem in sorted(self.problems, key=lambda p: self._position(p[0])):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            line = f"{self.source}: {path}: {problem}" if path else f"{self.source}: {problem}"
            line = " ".join(_TOKEN.sub(r"\1-…", line).splitlines())
            if line not in lines:
                lines.append(line)
        return lines


def _inherit(raw: dict[Any, Any], parent: Defaults) -> dict[Any, Any]:
    """`raw` with what it leaves out (or empty) taken from `parent`."""
    merged = dict(raw)
    for name in _INHERITED:
        own, base = raw.get(name), getattr(parent, name)
        if own is None:
            merged[name] = base
        elif name in _MERGED and isinstance(own, dict):
            merged[name] = {**dict(base), **own}
    return merged


def _team(report: _Report, key: object, raw: object, defaults: Defaults, categories: list[str]) -> Team | None:
    loc = ("teams", str(key))
    if not isinstance(key, str):  # a YAML number or yes/no: the key problem is all there is to say
        report.add(loc, cast(str, _key_problem(key, "team")))
        return None
    if not isinstance(raw, dict):
        report.add(loc, f"should be a mapping of team settings (name, channel, ...), but is {_describe(raw)}")
        return None
    if "key" in raw:
        report.add((*loc, "key"), "unknown key: a team's key is its name under teams:, so remove this line")
    report.thresholds(raw.get("thresholds"), loc, categories)
    own = {k: v for k, v in raw.items() if k != "key"}
    return report.validate(Team, {"name": key, **_inherit(own, defaults), "key": key}, loc)


def parse_config(data: object, source: str) -> LoopbotConfig:
    """Validate loaded YAML; raise ConfigError listing every problem, each naming `source` and the key path."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the top level should be a mapping of keys (defaults, teams, categories, ...), "
                           f"but is {_describe(data)}"])
    report = _Report(source, data)
    document = report.validate(_Document, data, ())
    # Every section is checked even when another is broken, so that one run reports every problem.
    section = {name: data[name] if isinstance(data.get(name), dict) else {}
               for name in ("defaults", "teams", "categories", "routing")}
    category_keys, team_keys = [str(k) for k in section["categories"]], [str(k) for k in section["teams"]]

    report.thresholds(section["defaults"].get("thresholds"), ("defaults",), category_keys)
    defaults = report.validate(Defaults, _inherit(section["defaults"], Defaults()), ("defaults",))
    defaults = defaults if defaults is not None else Defaults()  # teams are still checked against the built-ins
    teams = {team.key: team for key, raw in section["teams"].items()
             if (team := _team(report, key, raw, defaults, category_keys)) is not None}

    categories: dict[str, Category] = {}
    for key, raw in section["categories"].items():
        if problem := _key_problem(key, "category"):
            report.add(("categories", str(key)), problem)
        if (category := report.validate(Category, raw, ("categories", str(key)))) is not None and not problem:
            categories[key] = category

    for touchpoint, target in section["routing"].items():
        if not isinstance(target, str):
            report.add(("routing", str(touchpoint)), f"should be a team key, but is {_describe(target)}")
        elif target not in team_keys:
            report.add(("routing", str(touchpoint)), _not_configured(target, "team", "teams", team_keys))

    owners: dict[str, str] = {}
    for key, raw in zip(team_keys, section["teams"].values()):
        channel = raw.get("channel") if isinstance(raw, dict) else None
        if isinstance(channel, str) and channel in owners:
            report.add(("teams", key, "channel"), f"{channel} is already the channel of team {owners[channel]}; "
                                                  "each team needs a channel of its own")
        elif isinstance(channel, str):
            owners[channel] = key
    if data.get("weekly_summary") is not None and data.get("leaders_channel") is None:
        report.add(("weekly_summary",), "needs leaders_channel: the weekly summary is posted there")

    if document is not None and not report.problems:
        top = {name: getattr(document, name)
               for name in ("leaders", "leaders_channel", "weekly_summary", "retention_days")}
        config = report.validate(LoopbotConfig, {**top, "defaults": defaults, "teams": teams, "categories": categories,
                                                 "routing": {str(k): v for k, v in section["routing"].items()}}, ())
        if config is not None:
            return config
    raise ConfigError(report.lines())


# --- reading the file ----------------------------------------------------------------------------------------

class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """yaml.safe_load's loader, except that a key written twice is an error instead of silently the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise _DuplicateKey(problem=f'the key "{key_node.value}" appears twice in the same mapping; '
                                                "YAML would silently keep only the last one",
                                        problem_mark=key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "not valid YAML"
    if not isinstance(exc, _DuplicateKey):
        problem = "YAML syntax error: " + problem
    if "alias" in f"{problem} {getattr(exc, 'context', '')}":  # an unquoted cron such as */30 * * * * is an alias
        problem += '; a value starting with * must be quoted, e.g. huddle: "*/30 9-17 * * *"'
    return f"{source}: {where}{problem}"


def load_config(path: str | os.PathLike[str]) -> LoopbotConfig:
    """Read and validate the YAML file; raise ConfigError with every problem found."""
    source = str(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise ConfigError([f"{source}: file not found; copy config/loopbot.example.yaml there, "
                           "or point LOOPBOT_CONFIG at your config file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{source}: is not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot be read ({exc.strerror or type(exc).__name__})"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(source, exc)]) from None
    if data is None:
        raise ConfigError([f"{source}: the file is empty; start from config/loopbot.example.yaml"])
    return parse_config(data, source)
