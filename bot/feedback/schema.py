"""The feedback item of SPEC §4 and its validation, shared by the HTTP API and the CSV import."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from bot.scores import SCALES

MAX_BATCH = 5_000
MAX_COMMENT = 5_000
MAX_FUTURE = timedelta(minutes=5)
EXAMPLE_TS = "2026-11-22T09:30:00+01:00"

# datetime has no year 0: 0001-01-01T00:00:00+05:00 cannot even be turned to UTC, and storing it
# raised OverflowError for the whole batch. A day's margin, so that every time zone a Slack view
# shows a time in (UTC-12 to UTC+14) can hold the earliest one too.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
EARLIEST_TEXT = "0001-01-02T00:00:00Z"

# PostgreSQL cannot store U+0000 in text: refuse it per field rather than fail the whole batch.
NO_NUL = r"^[^\x00]*$"
# Names and ids end up in log lines, Slack messages, filters and CSV cells, where a line break or an
# escape sequence splits or rewrites what people read: no control character (Unicode Cc) at all.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
Str = Annotated[StrictStr, Field(pattern=NO_NUL)]
Name = Annotated[StrictStr, Field(pattern=NO_CONTROL)]
Text = Annotated[Name, Field(min_length=1)]
# What survey tools send as "Unix seconds", as a number or as a string of digits: pydantic would read
# it as a time, but the contract is ISO-8601 with an offset, which says which day the customer meant.
_UNIX = re.compile(r"\s*[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*")


def _flat(attrs: dict[str, Any]) -> dict[str, Any]:
    for key, value in attrs.items():
        problem = _not_plain(value)
        if problem:
            # The key goes in the context, not the message: a key may hold spaces or braces.
            raise PydanticCustomError("flat", problem, {"key": key})
    return attrs


def _not_plain(value: object) -> str | None:
    # "Operational values" are what a chart or a filter can use: no nesting.
    if isinstance(value, str) and "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    # The body parser reads NaN and Infinity, which are not JSON: PostgreSQL's jsonb refuses them
    # (a 500 for the whole batch) and SQLite would keep text no JSON reader can read back.
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number (NaN and Infinity are not JSON)"
    if not isinstance(value, str | int | float | bool | None):
        return "must be a string, number, boolean or null (no nested objects or lists)"
    return None


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _iso_only(value: object) -> object:
    # Anything else goes on to pydantic: an ISO string, a datetime from the CSV import (--timezone),
    # or a wrong type it names.
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number or (isinstance(value, str) and _UNIX.fullmatch(value)):
        raise PydanticCustomError(
            "unix_time",
            f"must be an ISO-8601 timestamp with an offset, e.g. {EXAMPLE_TS}, not a Unix time",
        )
    return value


def _storable(at: datetime) -> datetime:
    if at < EARLIEST:  # aware comparison: it never converts `at` to UTC, so it cannot overflow
        raise PydanticCustomError(
            "too_early", f"is before {EARLIEST_TEXT}, the earliest time Loopbot can store"
        )
    return at


class FeedbackIn(BaseModel):
    """One survey response as sent by a survey tool (or one CSV row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[Text, Field(max_length=200)]
    source: Annotated[Text, Field(max_length=100)] | None = None
    submitted_at: Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_storable)]
    metric: Annotated[Literal["csat", "nps", "ces"], BeforeValidator(_lower)]
    score: StrictInt
    comment: Annotated[Str, Field(max_length=MAX_COMMENT)] | None = None
    team: Annotated[Text, Field(max_length=64)] | None = None
    touchpoint: Annotated[Text, Field(max_length=100)] | None = None
    customer: Annotated[Name, Field(max_length=200)] | None = None
    segment: Annotated[Name, Field(max_length=100)] | None = None
    channel: Annotated[Name, Field(max_length=100)] | None = None
    tags: Annotated[list[Annotated[Text, Field(max_length=100)]], Field(max_length=50)] | None = (
        None
    )
    attributes: (
        Annotated[
            dict[Annotated[Text, Field(max_length=100)], Any],
            Field(max_length=50),
            AfterValidator(_flat),
        ]
        | None
    ) = None


FIELDS = tuple(FeedbackIn.model_fields)
REQUIRED = ("id", "submitted_at", "metric", "score")


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int  # position in the request body, or the CSV line number
    field: str  # "" when the item as a whole is wrong
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class ValidFeedback:
    item: FeedbackIn
    team: str  # resolved team key


class Validator:
    """Checks items against the schema and against the configuration (teams, routing, clock)."""

    def __init__(self, teams: set[str] | frozenset[str], routing: dict[str, str]):
        self.teams = frozenset(teams)
        self.routing = dict(routing)

    def validate(self, raw: object, index: int, now: datetime) -> ValidFeedback | list[ItemError]:
        try:
            item = FeedbackIn.model_validate(raw)
        except PydanticValidationError as exc:
            return [
                _from_pydantic(index, err)
                # The input only tells a NUL from another control character (_from_pydantic).
                for err in exc.errors(include_url=False, include_input=True)
            ]
        errors: list[ItemError] = []
        low, high = SCALES[item.metric]
        if not low <= item.score <= high:
            errors.append(
                ItemError(
                    index, "score", f"{item.score} is outside the {item.metric} scale {low}–{high}"
                )
            )
        if item.submitted_at > now + MAX_FUTURE:
            errors.append(
                ItemError(
                    index,
                    "submitted_at",
                    "is in the future (more than 5 minutes ahead of the server clock)",
                )
            )
        team = self._team(item, index, errors)
        return errors if errors or team is None else ValidFeedback(item, team)

    def _team(self, item: FeedbackIn, index: int, errors: list[ItemError]) -> str | None:
        if item.team is not None:
            if item.team in self.teams:
                return item.team
            errors.append(
                ItemError(
                    index,
                    "team",
                    f"unknown team {item.team!r} (configured: {_listing(self.teams)})",
                )
            )
            return None
        if item.touchpoint is not None:
            team = self.routing.get(item.touchpoint)
            if team is not None:
                return team
            errors.append(
                ItemError(
                    index,
                    "touchpoint",
                    f"no routing for touchpoint {item.touchpoint!r} (routed: {_listing(self.routing)}); send `team` instead",
                )
            )
            return None
        errors.append(
            ItemError(
                index,
                "team",
                "is required: send `team`, or a `touchpoint` that the routing maps to a team",
            )
        )
        return None


def _listing(names: object) -> str:
    names = sorted(names)  # type: ignore[call-overload]
    return ", ".join(names) if names else "none"


def _from_pydantic(index: int, err: dict[str, Any]) -> ItemError:
    loc = err["loc"]
    if loc and loc[-1] == "[key]":  # an attribute's name is wrong: name it as the field
        loc = loc[:-1]
    field = "".join(
        f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc)
    )
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = f"is not a known field (fields: {', '.join(FIELDS)})"
    elif kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        message = "must be a JSON object"
    elif kind == "dict_type":
        message = "must be an object of names to plain values"
    elif kind == "flat":
        field, message = f"{field}.{ctx['key']}", err["msg"]
    elif kind in ("string_type", "str_type"):
        message = "must be a string"
    elif kind.startswith("int_") or kind == "int_type":
        message = "must be an integer"
    elif kind == "string_too_long":
        message = f"is too long (at most {ctx.get('max_length')} characters)"
    elif kind == "string_pattern_mismatch" and (
        ctx.get("pattern") == NO_NUL or "\x00" in str(err.get("input"))
    ):
        message = "must not contain NUL characters (\\u0000)"
    elif kind == "string_pattern_mismatch":
        message = "must not contain control characters (U+0000–U+001F, U+007F–U+009F)"
    elif kind == "string_too_short":
        message = "must not be empty"
    elif kind == "too_long":
        message = f"has too many entries (at most {ctx.get('max_length')})"
    elif kind == "list_type":
        message = "must be a list of strings"
    elif kind == "literal_error":
        message = f"must be one of {ctx.get('expected', '').replace(chr(39), '')}"
    elif kind == "timezone_aware":
        message = f"has no UTC offset; add one (Z or +01:00), e.g. {EXAMPLE_TS}"
    elif kind.startswith("datetime") or kind.startswith("date_"):
        message = f"must be an ISO-8601 timestamp with an offset, e.g. {EXAMPLE_TS}"
    else:
        message = err["msg"]
    return ItemError(index, field, message)
