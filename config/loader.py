"""Load and validate the YAML: inheritance from `defaults`, every problem as `<file>: <key path>: <problem>`."""

from __future__ import annotations

import os
import re
import types
from collections.abc import Collection, Sequence
from typing import Annotated, Any, TypeVar, Union, cast, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config.fields import (
    INHERITED,
    MERGED,
    TOKEN,
    clip,
    describe,
    did_you_mean,
    key_problem,
    not_configured,
    segment_key,
    segment_problems,
    show,
)
from config.sources import Sources, source_problems
from config.teams import Category, Defaults, Document, LoopbotConfig, Team, threshold_problems


class ConfigError(Exception):
    """Every problem of the configuration, one line each: `<file>: <key path>: <problem>`."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


# --- from pydantic's errors to lines an admin understands ----------------------------------------------------

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
}
_MISSING = {
    "channel": "every team needs the id of its Slack channel, e.g. channel: C0123ABCD",
    "supervisors": "list who resolves this team's cases, e.g. supervisors: [U0123ABCD]",
    "teams": "configure at least one team under teams:",
    "metric": "say which metric to watch: csat, nps, ces, cases or complaints",
    "window": "say over which period the metric is computed, e.g. window: 24h",
    "keywords": "list the words that put a comment in this category, e.g. keywords: [late, delay]",
    # Only a segment's SLA can miss them: sla merges with the defaults' (sla_by_segment takes whole SLAs).
    "ack": "a segment's SLA gives both ack and resolve, e.g. vip: {ack: 10m, resolve: 4h}",
    "resolve": "a segment's SLA gives both ack and resolve, e.g. vip: {ack: 10m, resolve: 4h}",
}
# Errors the models raise that parse_config reports from the raw YAML instead, where the key path is exact.
_FROM_YAML = ("threshold_rule", "segment_name", "source_rule")


def _allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys of the mapping at `loc` inside `model`, for "did you mean"."""
    node: Any = model
    for part in (*loc, None):
        # Annotated[X, ...] and X | None hold X
        while get_origin(node) in (Annotated, Union, types.UnionType):
            node = next(arg for arg in get_args(node) if arg is not type(None))
        if part is None:
            break
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            node = field.annotation if field else None
        else:
            node = (get_args(node) or (None,))[-1]  # list[X] and dict[K, X] hold X
    # A team's key is its name under teams:
    model_fields = (
        node.model_fields if isinstance(node, type) and issubclass(node, BaseModel) else {}
    )
    return [name for name in model_fields if name != "key"]


def _explain(err: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, loc, ctx = err["type"], err.get("input"), err["loc"], err.get("ctx", {})
    if kind == "value_error":
        return str(ctx.get("error", "has a value that is not allowed here"))
    if kind == "missing":
        hint = _MISSING.get(str(loc[-1])) if loc else None
        return f"is missing; {hint}" if hint else "is missing"
    if kind in ("extra_forbidden", "invalid_key"):
        allowed = _allowed_keys(model, loc[:-1])
        return "unknown key" + (
            did_you_mean(loc[-1], allowed) or f"; the keys allowed here are {', '.join(allowed)}"
        )
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{show(value)} is not one of {', '.join(options)}{did_you_mean(value, options)}"
    if kind in _EXPECTED:
        return f"should be {_EXPECTED[kind]}, but is {describe(value)}"
    # Never pydantic's own wording.
    return f"has a value that is not allowed here ({describe(value)})"


_M = TypeVar("_M", bound=BaseModel)


class _Report:
    """Collects problems and hands them out as `<file>: <key path>: <problem>` lines, in document order."""

    def __init__(self, source: str, data: dict[Any, Any]):
        self.source, self.data = source, data
        self.problems: list[tuple[tuple[Any, ...], str]] = []
        self._index: dict[int, tuple[dict[str, int], list[Any]]] = {}  # _position's, by id(node)

    def add(self, loc: Sequence[Any], problem: str) -> None:
        self.problems.append((tuple(loc), problem))

    def validate(self, model: type[_M], data: object, loc: tuple[str, ...]) -> _M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                if err["type"] not in _FROM_YAML:  # thresholds() and segments() report those
                    # A team's key is the mapping key above it.
                    where = () if err["loc"] == ("key",) else err["loc"]
                    self.add((*loc, *where), _explain(err, model))
            return None

    def thresholds(self, rules: object, loc: tuple[str, ...], categories: Collection[str]) -> None:
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            for where, problem in (
                threshold_problems(rule, categories) if isinstance(rule, dict) else []
            ):
                self.add((*loc, "thresholds", i, *where), problem)

    def segments(self, slas: object, loc: tuple[str, ...]) -> None:
        for where, problem in segment_problems(slas) if isinstance(slas, dict) else []:
            self.add((*loc, "sla_by_segment", *where), problem)

    def _position(self, loc: tuple[Any, ...]) -> list[int]:
        # Where the key sits in the file, so lines read top to bottom; keys the file lacks follow their siblings.
        node, position = self.data, []
        for part in loc:
            node = node if isinstance(node, (dict, list)) else ()  # a scalar: no children
            # Indexed once per mapping or list: a problem per item of a long list stays linear.
            if id(node) not in self._index:
                children = list(node.items() if isinstance(node, dict) else enumerate(node))
                named = {str(k): i for i, (k, _) in reversed(list(enumerate(children)))}
                self._index[id(node)] = named, [child for _, child in children]
            named, children = self._index[id(node)]
            position.append(named.get(str(part), len(children)))
            node = children[position[-1]] if position[-1] < len(children) else None
        return position

    def lines(self) -> list[str]:
        lines: dict[str, None] = {}  # in order, each once
        for loc, problem in sorted(self.problems, key=lambda p: self._position(p[0])):
            # A key is quoted at most 120 characters long, a problem 300: no line grows with the file.
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{clip(p, 120)}" for p in loc)
            line = f"{self.source}: {path.lstrip('.')}: " if path else f"{self.source}: "
            lines[" ".join(TOKEN.sub(r"\1-…", line + clip(problem, 300)).splitlines())] = None
        return list(lines)


def _inherit(raw: dict[Any, Any], parent: Defaults) -> dict[Any, Any]:
    """`raw` with what it leaves out (or empty) taken from `parent`."""
    merged = dict(raw)
    for name in INHERITED:
        own, base = raw.get(name), getattr(parent, name)
        if own is None:
            merged[name] = base
        elif name in MERGED and isinstance(own, dict):
            # The keys `raw` names replace the parent's; segment names match whatever their case.
            same = segment_key if name == "sla_by_segment" else str
            named = {same(k) for k in own if isinstance(k, str)}
            merged[name] = {**{k: v for k, v in dict(base).items() if k not in named}, **own}
    return merged


def _team(
    report: _Report, key: object, raw: object, defaults: Defaults, categories: list[str]
) -> Team | None:
    loc = ("teams", str(key))
    if not isinstance(key, str):  # a YAML number or yes/no: the key problem is all there is to say
        report.add(loc, cast(str, key_problem(key, "team")))
        return None
    if not isinstance(raw, dict):
        expected = "should be a mapping of team settings (name, channel, ...)"
        report.add(loc, f"{expected}, but is {describe(raw)}")
        return None
    if "key" in raw:
        remove = "unknown key: a team's key is its name under teams:, so remove this line"
        report.add((*loc, "key"), remove)
    report.thresholds(raw.get("thresholds"), loc, categories)
    report.segments(raw.get("sla_by_segment"), loc)
    own = {k: v for k, v in raw.items() if k != "key"}
    return report.validate(Team, {"name": key, **_inherit(own, defaults), "key": key}, loc)


def parse_config(data: object, source: str) -> LoopbotConfig:
    """Validate loaded YAML; raise ConfigError listing every problem, each naming `source` and the key path."""
    if not isinstance(data, dict):
        expected = "the top level should be a mapping of keys (defaults, teams, categories, ...)"
        raise ConfigError([f"{source}: {expected}, but is {describe(data)}"])
    report = _Report(source, data)
    document = report.validate(Document, data, ())
    # Every section is checked even when another is broken, so that one run reports every problem.
    section = {
        name: data[name] if isinstance(data.get(name), dict) else {}
        for name in ("defaults", "teams", "categories", "routing", "sources")
    }
    category_keys = [str(k) for k in section["categories"]]
    team_keys = [str(k) for k in section["teams"]]

    report.thresholds(section["defaults"].get("thresholds"), ("defaults",), category_keys)
    report.segments(section["defaults"].get("sla_by_segment"), ("defaults",))
    defaults = report.validate(Defaults, _inherit(section["defaults"], Defaults()), ("defaults",))
    # Teams are still checked against the built-ins.
    defaults = defaults if defaults is not None else Defaults()
    teams = {
        team.key: team
        for key, raw in section["teams"].items()
        if (team := _team(report, key, raw, defaults, category_keys)) is not None
    }

    categories: dict[str, Category] = {}
    for key, raw in section["categories"].items():
        if problem := key_problem(key, "category"):
            report.add(("categories", str(key)), problem)
        category = report.validate(Category, raw, ("categories", str(key)))
        if category is not None and not problem:
            categories[key] = category

    for touchpoint, target in section["routing"].items():
        if not isinstance(target, str):
            report.add(
                ("routing", str(touchpoint)), f"should be a team key, but is {describe(target)}"
            )
        elif target not in team_keys:
            missing = not_configured(target, "team", "teams", team_keys)
            report.add(("routing", str(touchpoint)), missing)

    owners: dict[str, str] = {}
    for key, raw in zip(team_keys, section["teams"].values()):
        channel = raw.get("channel") if isinstance(raw, dict) else None
        if isinstance(channel, str) and channel in owners:
            report.add(
                ("teams", key, "channel"),
                f"{channel} is already the channel of team {owners[channel]}; "
                "each team needs a channel of its own",
            )
        elif isinstance(channel, str):
            owners[channel] = key
    sources = report.validate(Sources, section["sources"], ("sources",))
    for where, problem in source_problems(
        section["sources"], team_keys, [str(k) for k in section["routing"]]
    ):
        report.add(("sources", *where), problem)
    if data.get("weekly_summary") is not None and data.get("leaders_channel") is None:
        report.add(("weekly_summary",), "needs leaders_channel: the weekly summary is posted there")

    if document is not None and not report.problems:
        top = {
            name: getattr(document, name)
            for name in ("leaders", "leaders_channel", "weekly_summary", "retention_days")
        }
        parts = {"defaults": defaults, "teams": teams, "categories": categories, "sources": sources}
        routing = {str(k): v for k, v in section["routing"].items()}
        config = report.validate(LoopbotConfig, {**top, **parts, "routing": routing}, ())
        if config is not None:
            return config
    raise ConfigError(report.lines())


# --- reading the file ----------------------------------------------------------------------------------------


# What one file may stand for. A real config holds a few hundred values nested six or seven deep.
# The limits leave room for the largest and bound every step after the parser: pydantic, our checks
# and messages quoting a value. Values are counted as the program sees them, aliases expanded: 1 KB
# of nested aliases ("billion laughs") stands for 10**9 values, while aliases sharing an SLA block
# or a threshold list add a few dozen.
MAX_VALUES = 100_000
# Composing, validating and printing all recurse: 20,000 nested brackets would need far more than
# Python's 1,000 frames.
MAX_DEPTH = 50


class _Refused(yaml.MarkedYAMLError):
    """A problem of the file itself, not of its syntax: a key written twice, too many values, too deep."""

    def __init__(self, problem: str, mark: yaml.Mark):
        super().__init__(problem=problem, problem_mark=mark)


class _Loader(yaml.SafeLoader):
    """yaml.safe_load's loader, refusing what it would silently misread (a key written twice keeps the
    last) and what would take minutes and gigabytes later (MAX_VALUES, MAX_DEPTH), before it is built."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._values: dict[int, int] = {}  # id(node): the values it stands for, aliases expanded
        self._depth = self._written = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._values:  # its anchor's block is still open around it
                raise _Refused(
                    f"the alias *{clip(event.anchor, 60)} is inside the very block it names, "
                    "so the value would contain itself; write the values out",
                    event.start_mark,
                )
            return node
        nests = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nests and self._depth >= MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += nests
        node = super().compose_node(parent, index)
        self._depth, self._written = self._depth - nests, self._written + 1
        children = node.value if isinstance(node, yaml.SequenceNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        values = self._values[id(node)] = 1 + sum(self._values[id(child)] for child in children)
        if values > MAX_VALUES and self._written <= MAX_VALUES:
            raise _Refused(
                f"uses YAML aliases that expand to more than {MAX_VALUES:,} values; "
                "write the values out instead of repeating them through aliases",
                node.start_mark,
            )
        if values > MAX_VALUES:
            raise _Refused(
                f"has more than {MAX_VALUES:,} values; is this the Loopbot config?", node.start_mark
            )
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # int("9" * 5000), a 13th month: no YAMLError
            what = f"a date ({exc})" if node.tag.endswith("timestamp") else "a number"
            problem = f"{show(node.value)} cannot be read as {what}; put it in quotes if it is text"
            raise _Refused(problem, node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise _Refused(
                        f"the key {show(key_node.value)} appears twice in the same mapping; "
                        "YAML would silently keep only the last one",
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}: line {mark.line + 1}, column {mark.column + 1}: " if mark else f"{source}: "
    # PyYAML's problem may quote an alias or a tag of any length.
    problem = clip(getattr(exc, "problem", None) or getattr(exc, "context", None) or "", 200)
    if isinstance(exc, _Refused):
        return where + problem
    if "alias" in f"{problem} {getattr(exc, 'context', '')}":  # so is an unquoted */30 * * * *
        problem += '; a value starting with * must be quoted, e.g. huddle: "*/30 9-17 * * *"'
    return f"{where}YAML syntax error: {problem or 'not valid YAML'}"


def load_config(path: str | os.PathLike[str]) -> LoopbotConfig:
    """Read and validate the YAML file; raise ConfigError with every problem found."""
    source = str(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        hint = "copy config/loopbot.example.yaml there, or point LOOPBOT_CONFIG at your config file"
        raise ConfigError([f"{source}: file not found; {hint}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{source}: is not UTF-8 text"]) from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError([f"{source}: cannot be read ({why})"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(source, exc)]) from None
    if data is None:
        raise ConfigError([f"{source}: the file is empty; start from config/loopbot.example.yaml"])
    return parse_config(data, source)
