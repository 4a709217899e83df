"""The feedback item of SPEC §4 and its validation, shared by the HTTP API and the CSV import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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

# PostgreSQL cannot store U+0000 in text: refuse it per field rather than fail the whole batch.
Str = Annotated[StrictStr, Field(pattern=r"^[^\x00]*$")]
Text = Annotated[Str, Field(min_length=1)]


def _flat(attrs: dict[str, Any]) -> dict[str, Any]:
    # "Operational values" are what a chart or a filter can use: no nesting.
    for key, value in attrs.items():
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError(
                "flat", f"attributes.{key} must not contain NUL characters (\\u0000)"
            )
        if not isinstance(value, str | int | float | bool | None):
            raise PydanticCustomError(
                "flat",
                f"attributes.{key} must be a string, number, boolean or null (no nested objects or lists)",
            )
    return attrs


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class FeedbackIn(BaseModel):
    """One survey response as sent by a survey tool (or one CSV row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[Text, Field(max_length=200)]
    source: Annotated[Text, Field(max_length=100)] | None = None
    submitted_at: AwareDatetime
    metric: Annotated[Literal["csat", "nps", "ces"], BeforeValidator(_lower)]
    score: StrictInt
    comment: Annotated[Str, Field(max_length=MAX_COMMENT)] | None = None
    team: Annotated[Text, Field(max_length=64)] | None = None
    touchpoint: Annotated[Text, Field(max_length=100)] | None = None
    customer: Annotated[Str, Field(max_length=200)] | None = None
    segment: Annotated[Str, Field(max_length=100)] | None = None
    channel: Annotated[Str, Field(max_length=100)] | None = None
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
                for err in exc.errors(include_url=False, include_input=False)
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
        field, message = err["msg"].split(" ", 1)
    elif kind in ("string_type", "str_type"):
        message = "must be a string"
    elif kind.startswith("int_") or kind == "int_type":
        message = "must be an integer"
    elif kind == "string_too_long":
        message = f"is too long (at most {ctx.get('max_length')} characters)"
    elif kind == "string_pattern_mismatch":
        message = "must not contain NUL characters (\\u0000)"
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
