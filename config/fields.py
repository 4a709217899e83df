"""Field types of the YAML model and the wording of their problems, so every message reads alike."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection
from datetime import timedelta
from math import inf
from typing import Annotated, Any, Literal, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    Strict,
    StrictStr,
)

from config.cron import Cron, parse_cron
from config.durations import HINT, format_duration, parse_duration

Metric = Literal["csat", "nps", "ces", "cases", "complaints"]
_KEY = re.compile(r"[a-z][a-z0-9_-]*")
# A Slack token pasted under the wrong key must not be echoed into logs or CI output.
TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
_RESERVED = {
    "team": dict.fromkeys(
        ("all", "open", "overdue", "mine"), "/feedback list and stats read it as a filter word"
    ),
    "category": {"other": "it is always offered as a root cause"},
}
INHERITED = (
    "timezone",
    "huddle",
    "sla",
    "open_case_when",
    "thresholds",
    "verify_window",
    "verify_min_responses",
    "recurrence_window",
    "systemic_after",
    "sla_by_segment",
    "privacy",
)
# Merged key by key (sla_by_segment segment by segment); the other inherited keys are replaced whole.
MERGED = ("sla", "open_case_when", "sla_by_segment")
Problems = list[tuple[tuple[str, ...], str]]  # (where inside the checked mapping, what is wrong)
# Statistical rules (`rule: spc`) judge a rate or a mean per response; `cases` is a count of its own.
SPC_METRICS = ("csat", "nps", "ces", "complaints")
DEFAULT_BASELINE = timedelta(weeks=8)
# metric: (the comparison it uses, lowest and highest value, when an alert fires)
RULES: dict[str, tuple[str, float, float, str]] = {
    "csat": ("below", 0, 100, "CSAT (the % of 4-5 scores, 0-100) falls below it"),
    "nps": ("below", -100, 100, "NPS (-100 to 100) falls below it"),
    "ces": ("above", 1, 7, "the mean CES score (1-7) rises above it"),
    "cases": ("above", 0, inf, "more cases than this open within the window"),
    "complaints": (
        "above",
        0,
        inf,
        "more complaints of its category than this arrive within the window",
    ),
}


# As long as a feedback's segment may be (bot.feedback.schema): a longer name could never match one.
MAX_SEGMENT = 100


def clip(text: object, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis saying it was cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show(value: object) -> str:
    """A value as messages quote it (YAML spelling, shortened)."""
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:57]}..."'
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "empty"}[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # Clipped: a number from the file may have thousands of digits.
    return {list: "a list", dict: "a mapping"}.get(type(value)) or clip(value, 60)


def describe(value: object) -> str:
    """What a value of the wrong type is, for "should be X, but is Y"."""
    kind = (
        "true/false"
        if isinstance(value, bool)
        else "a number"
        if isinstance(value, (int, float))
        else "text"
        if isinstance(value, str)
        else None
    )
    if kind:
        return f"{kind} ({show(value)})"
    return (
        show(value)
        if value is None or isinstance(value, (list, dict))
        else f"a {type(value).__name__} ({value})"
    )


def did_you_mean(word: object, options: Collection[str]) -> str:
    text = str(word).lower()
    close = (
        difflib.get_close_matches(text, list(options), n=1)
        or [option for option in options if len(text) >= 3 and text in option.lower()][:1]
    )  # "late" -> late_delivery
    return f" (did you mean {close[0]}?)" if close else ""


def not_configured(value: object, what: str, plural: str, options: Collection[str]) -> str:
    hint = did_you_mean(value, options) or (
        f"; configured {plural}: {', '.join(options)}"
        if options
        else f"; no {plural} are configured"
    )
    return f"{show(value)} is not a configured {what}{hint}"


def segment_key(segment: str | None) -> str | None:
    """How segment names compare, in the YAML and on cases: trimmed, case-insensitive ("VIP " is vip)."""
    key = segment.strip().lower() if segment else ""
    return key or None


def segment_problems(names: Collection[object]) -> Problems:
    """What is wrong with the segment names (keys) of one sla_by_segment mapping, each at its key."""
    problems: Problems = []
    seen: dict[str, str] = {}
    for name in names:
        if isinstance(name, bool):
            problem = "YAML reads yes, no, on and off as true/false: put the segment name in quotes"
        elif not isinstance(name, str):
            problem = f"should be a segment name in quotes, but is {describe(name)}"
        elif not name.strip():
            problem = f"{show(name)} cannot be a segment name: it is empty"
        elif len(name) > MAX_SEGMENT:
            problem = (
                f"is longer than {MAX_SEGMENT} characters, so no feedback's segment can match it"
            )
        elif (key := cast(str, segment_key(name))) in seen:
            problem = (
                f"{show(name)} is the same segment as {show(seen[key])}: segment names match "
                "whatever their case, so keep one of them"
            )
        else:
            seen[key] = name
            continue
        problems.append(((str(name),), problem))
    return problems


# --- field types: each raises ValueError with the whole message an admin reads ---------------------------


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return parse_duration(str(value))
    raise ValueError(f"should be a duration ({HINT}), but is {describe(value)}")


def _cron(value: object) -> Cron:
    if isinstance(value, (Cron, str)):
        return value if isinstance(value, Cron) else parse_cron(value)
    raise ValueError(
        f'should be a cron expression in quotes such as "0 9 * * mon-fri", but is {describe(value)}'
    )


def _timezone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"should be a time zone name such as Europe/Paris, but is {describe(value)}"
        )
    try:
        ZoneInfo(value)
        return value
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "Europe"
        zones = sorted(available_timezones())
    wanted = value.strip().replace(" ", "_").lower()
    # Spelling suggestions only for Area/City names: for "CEST" the closest spelling is EST, six hours off.
    guess = next(
        (z for z in zones if z.lower() == wanted or z.lower().endswith("/" + wanted)), None
    ) or next(iter(difflib.get_close_matches(value, zones, n=1) if "/" in value else []), None)
    hint = f" (did you mean {guess}?)" if guess else ""
    raise ValueError(
        f"{show(value)} is not an IANA time zone{hint}; "
        "use a name such as Europe/Paris or America/New_York"
    )


# privacy (SPEC §11): who may list and read a team's cases. Words an admin may reach for name the one meant.
PRIVACY = {
    "open": "anyone may list and read the team's cases",
    "team": "only its members, supervisors and leaders may see them",
}
_PRIVACY_WORDS = {"private": "team", "members": "team", "closed": "team", "public": "open"}


def _privacy(value: object) -> str:
    if isinstance(value, str) and value in PRIVACY:
        return value
    what = show(value) if isinstance(value, str) else describe(value)
    guess = _PRIVACY_WORDS.get(str(value).strip().lower()) if isinstance(value, str) else None
    hint = f" (did you mean {guess}?)" if guess else did_you_mean(value, PRIVACY)
    options = " or ".join(f"{word} ({meaning})" for word, meaning in PRIVACY.items())
    raise ValueError(f"{what} is not a privacy setting{hint}; write {options}")


def _slack_id(pattern: str, what: str, where: str) -> PlainValidator:
    def check(value: object) -> str:
        if isinstance(value, str) and re.fullmatch(pattern, value):
            return value
        raise ValueError(f"{show(value)} is not a Slack {what} id: {what} ids look like {where}")

    return PlainValidator(check)


_T = TypeVar("_T")


def _check(ok: Callable[[Any], bool], problem: Callable[[Any], str]) -> AfterValidator:
    def check(value: _T) -> _T:
        if not ok(value):
            raise ValueError(problem(value))
        return value

    return AfterValidator(check)


def scale(low: int, high: int, name: str) -> AfterValidator:
    return _check(
        lambda v: low <= v <= high, lambda v: f"{v} is outside the {name} scale {low}-{high}"
    )


def at_least_1(why: str) -> AfterValidator:
    return _check(lambda v: v >= 1, lambda v: f"must be 1 or more, not {v} ({why})")


def at_most(n: int, why: str) -> AfterValidator:
    return _check(
        lambda v: len(v) <= n, lambda v: f"has {len(v)} entries; give at most {n} ({why})"
    )


def required(problem: str) -> AfterValidator:
    return _check(bool, lambda _: problem)


def _empty_if_none(factory: Callable[[], object]) -> BeforeValidator:
    # A key left empty in YAML (`members:`) is None; for lists and sections that means "none".
    return BeforeValidator(lambda value: factory() if value is None else value)


def key_problem(key: object, what: str) -> str | None:
    if isinstance(key, bool):
        return f"YAML reads yes, no, on and off as true/false: put the {what} key in quotes"
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return (
            f"{show(str(key))} is not a valid {what} key: use lowercase letters, digits, - and _, "
            "starting with a letter (it is typed in Slack commands)"
        )
    reason = _RESERVED[what].get(key)
    return f'"{key}" cannot be a {what} key: {reason}' if reason else None


def fmt_duration(td: timedelta) -> str:
    return format_duration(td) if td >= timedelta(0) and not td % timedelta(minutes=1) else str(td)


Duration = Annotated[
    timedelta, PlainValidator(_duration), PlainSerializer(format_duration, when_used="json")
]


def whole_weeks(least: int, example: str, why: str) -> AfterValidator:
    def problem(td: timedelta) -> str:
        if td % timedelta(weeks=1) or td < timedelta(weeks=1):
            return f"must be whole weeks, e.g. {example}, not {fmt_duration(td)} ({why})"
        return f"must be at least {least}w, not {fmt_duration(td)} ({why})"

    return _check(lambda td: td >= timedelta(weeks=least) and not td % timedelta(weeks=1), problem)


# Verification compares whole weeks, so a weekday mix is the same before and after a change (SPEC §8).
Weeks = Annotated[
    Duration,
    whole_weeks(1, "2w", "before and after a change are compared over the same weekdays"),
]
# An SPC rule's limits come from the baseline weeks before each day (SPEC §9): whole weeks hold every
# weekday equally often, and fewer than two leave too few days for limits that mean anything.
Baseline = Annotated[
    Duration,
    whole_weeks(2, "8w", "limits come from the baseline's days: whole weeks, at least two"),
]
# Dumped as its text in both modes: pydantic would otherwise turn the dataclass into a dict.
CronField = Annotated[Cron, PlainValidator(_cron), PlainSerializer(str)]
TimeZoneName = Annotated[str, PlainValidator(_timezone)]
Privacy = Annotated[Literal["open", "team"], PlainValidator(_privacy)]
ChannelId = Annotated[
    str,
    _slack_id(
        r"[CG][A-Z0-9]{2,}",
        "channel",
        "C0123ABCD (in Slack, open the channel's "
        "details: the Channel ID is at the bottom of the About tab)",
    ),
]
UserId = Annotated[
    str,
    _slack_id(
        r"[UW][A-Z0-9]{2,}",
        "user",
        "U0123ABCD (in Slack, open the person's profile, click ⋮ More, then Copy member ID)",
    ),
]
UserIds = Annotated[list[UserId], _empty_if_none(list)]
Integer = Annotated[int, Strict()]
Number = Annotated[float, Strict()]  # strict still takes 80 for 80.0, but not true or "80"
Text = Annotated[StrictStr, _check(lambda text: text.strip() != "", lambda _: "cannot be empty")]
Section = Annotated[dict[Any, Any], _empty_if_none(dict)]
RetentionDays = Annotated[Integer, at_least_1("feedback older than this many days is purged")]
TeamKey = Annotated[
    str, _check(lambda key: key_problem(key, "team") is None, lambda key: key_problem(key, "team"))
]
