"""The YAML `sources:` section of SPEC §10: how each survey tool's webhook fields map to a feedback item."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from config.fields import Integer, Problems, Text, describe, not_configured, required, scale, show

TOOLS = ("typeform", "delighted", "zendesk", "intercom")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_reference(value: str) -> bool:
    """A value naming a field of the tool's payload (`hidden.team`); team keys never hold a dot."""
    return "." in value


class Routed(_Model):
    """Where a tool's responses go and whose they are: each value is fixed here or read per response.

    A value with a dot names a field of the payload by one of the tool's prefixes (`hidden.team`);
    without one it is the value itself (`team: support`). `customer` always names a field.
    """

    # The payload fields a value may name, by prefix, with what the admin should write.
    PREFIXES: ClassVar[dict[str, str]] = {}
    TOOL: ClassVar[str] = ""

    team: Text | None = None
    touchpoint: Text | None = None
    customer: Text | None = None
    segment: Text | None = None

    @field_validator("team", "touchpoint", "customer", "segment")
    @classmethod
    def _known_prefix(cls, value: str | None) -> str | None:
        if value is None or not is_reference(value):
            return value
        prefix = value.split(".", 1)[0]
        if prefix not in cls.PREFIXES or not value.split(".", 1)[1].strip():
            known = "; ".join(f"{p}.<name> for {what}" for p, what in cls.PREFIXES.items())
            raise ValueError(
                f"{show(value)} is not a {cls.TOOL} field Loopbot reads: write {known}"
            )
        return value

    @field_validator("customer")
    @classmethod
    def _customer_is_a_field(cls, value: str | None) -> str | None:
        if value is not None and not is_reference(value):
            example = next(iter(cls.PREFIXES), "hidden")
            raise ValueError(
                f"{show(value)} would give every response the same customer; name a field of the "
                f"payload instead, e.g. customer: {example}.customer_id"
            )
        return value

    @model_validator(mode="after")
    def _one_owner(self) -> Routed:
        # parse_config reports this from the raw YAML (source_problems), next to any field errors.
        problem = _owner_problem(self.team, self.touchpoint)
        if problem:
            raise PydanticCustomError("source_rule", "{problem}", {"problem": problem})
        return self


def _owner_problem(team: object, touchpoint: object) -> str | None:
    if (team is None) == (touchpoint is None):
        return (
            f"{'gives both team and touchpoint' if team is not None else 'needs team or touchpoint'}"
            ": the owning team, e.g. team: support, or a touchpoint the routing maps to a team "
            "(either may name a field of the payload)"
        )
    return None


def _scores_problem(good: object, bad: object) -> str | None:
    if isinstance(good, int) and isinstance(bad, int) and good <= bad:
        return f"good ({good}) must score above bad ({bad}) on the CSAT scale 1-5"
    return None


class TypeformForm(Routed):
    """One Typeform form: which answers (by field ref) hold the score and the comment."""

    PREFIXES: ClassVar[dict[str, str]] = {"hidden": "a hidden field of the form"}
    TOOL: ClassVar[str] = "Typeform"

    metric: Literal["csat", "nps", "ces"]
    score: Text  # field ref of the answer holding the score (opinion scale, rating, number)
    comment: Text | None = None  # field ref of a text answer


# source_problems reports a form id YAML read as a number (at its key): here it only becomes text.
FormId = Annotated[str, BeforeValidator(str)]


class Typeform(_Model):
    forms: Annotated[
        dict[FormId, TypeformForm],
        required("needs at least one form: its id (in the form's URL) and its field refs"),
    ]


class Delighted(Routed):
    """Delighted: the metric comes from each response's survey type (nps, csat, ces)."""

    PREFIXES: ClassVar[dict[str, str]] = {
        "properties": "a person property sent with the survey",
        "person": "the person (id, email, name)",
    }
    TOOL: ClassVar[str] = "Delighted"


class Zendesk(Routed):
    """Zendesk satisfaction ratings: good and bad become these CSAT scores."""

    PREFIXES: ClassVar[dict[str, str]] = {
        "ticket": "a ticket value the trigger's JSON body carries"
    }
    TOOL: ClassVar[str] = "Zendesk"

    good: Annotated[Integer, scale(1, 5, "CSAT")] = 5
    bad: Annotated[Integer, scale(1, 5, "CSAT")] = 1

    @model_validator(mode="after")
    def _good_above_bad(self) -> Zendesk:
        problem = _scores_problem(self.good, self.bad)
        if problem:
            raise PydanticCustomError("source_rule", "{problem}", {"problem": problem})
        return self


class Intercom(Routed):
    """Intercom conversation ratings (1-5) are CSAT scores as they are."""

    PREFIXES: ClassVar[dict[str, str]] = {
        "contact": "the rating contact (id, external_id)",
        "attributes": "a custom attribute of the conversation",
    }
    TOOL: ClassVar[str] = "Intercom"


class Sources(_Model):
    """The tools whose webhooks Loopbot accepts; a tool left out answers 503 until it is added."""

    typeform: Typeform | None = None
    delighted: Delighted | None = None
    zendesk: Zendesk | None = None
    intercom: Intercom | None = None

    def configured(self) -> list[str]:
        return [tool for tool in TOOLS if getattr(self, tool) is not None]


def source_problems(raw: object, teams: Collection[str], routed: Collection[str]) -> Problems:
    """What is wrong across the keys of the raw `sources:` mapping, each at its key: owners given
    twice or not at all, fixed teams that are not configured, fixed touchpoints the routing does
    not map, form ids YAML did not read as text, Zendesk's good not above its bad."""
    problems: Problems = []
    if not isinstance(raw, dict):
        return problems
    owners: list[tuple[tuple[str, ...], Any]] = [
        ((tool,), raw[tool]) for tool in ("delighted", "zendesk", "intercom") if tool in raw
    ]
    forms = raw.get("typeform", {}).get("forms") if isinstance(raw.get("typeform"), dict) else None
    for form_id, form in forms.items() if isinstance(forms, dict) else []:
        if not isinstance(form_id, str):
            problems.append(
                (
                    ("typeform", "forms", str(form_id)),
                    f"a form id is text, but YAML read {describe(form_id)}: put it in quotes",
                )
            )
        owners.append((("typeform", "forms", str(form_id)), form))
    for where, owner in owners:
        if not isinstance(owner, dict):
            continue
        team, touchpoint = owner.get("team"), owner.get("touchpoint")
        if problem := _owner_problem(team, touchpoint):
            problems.append((where, problem))
        zendesk = where == ("zendesk",)
        if zendesk and (problem := _scores_problem(owner.get("good", 5), owner.get("bad", 1))):
            problems.append(((*where, "good"), problem))
        if isinstance(team, str) and not is_reference(team) and team not in teams:
            problems.append(((*where, "team"), not_configured(team, "team", "teams", teams)))
        if (
            isinstance(touchpoint, str)
            and not is_reference(touchpoint)
            and touchpoint not in routed
        ):
            problems.append(
                (
                    (*where, "touchpoint"),
                    f"{show(touchpoint)} is not routed to a team; add it under routing:, or write "
                    "team: instead",
                )
            )
    return problems
