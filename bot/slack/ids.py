"""Slack ids in one place: action, callback and block ids, and the case metadata carried by buttons and modals."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import InvalidInput

# Slack caps a button `value` at 2,000 characters (private_metadata at 3,000): the smaller one rules.
MAX_VALUE = 2_000


class ActionId(StrEnum):
    ACK = "case_ack"
    RESOLVE = "case_resolve"
    ASSIGN_ME = "case_assign_me"
    REOPEN = "case_reopen"
    LIST_OPEN = "cases_list_open"
    SHOW = "case_show"
    ACTION_REOPEN = "action_reopen"
    ACTION_SHOW = "action_show"


class CallbackId(StrEnum):
    RESOLVE = "case_resolve_modal"
    REOPEN = "case_reopen_modal"


class BlockId(StrEnum):
    # Input block ids equal the core's InvalidInput.field names, so a core error lands under its field.
    OUTCOME = "outcome"
    ROOT_CAUSE = "root_cause"
    ACTION = "action"
    RATIONALE = "rationale"
    REASON = "reason"
    WHYS = "whys"
    CORRECTIVE = "corrective"
    OWNER = "owner"
    DUE = "due"
    ATTACH = "attach"
    CASE_ACTIONS = "case_actions"
    ACTION_BUTTONS = "action_buttons"


class CaseMeta(BaseModel):
    """Which case a button or modal is about, and where the person was when they opened it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: int = Field(gt=0)
    channel: str | None = Field(default=None, max_length=64)  # where to reply

    def dump(self) -> str:
        text = self.model_dump_json(exclude_none=True)
        if len(text) > MAX_VALUE:  # unreachable with the field limits above; kept as the invariant
            raise ValueError(f"case metadata is {len(text)} characters; Slack allows {MAX_VALUE}")
        return text

    @classmethod
    def load(cls, text: str | None, *, command: str = "/feedback") -> CaseMeta:
        try:
            return cls.model_validate_json(text or "")
        except ValidationError:
            raise InvalidInput(
                f"This button is from an older version of Loopbot; run `{command} show FB-n` "
                f"(with the case's number) instead."
            ) from None


class ActionMeta(BaseModel):
    """Which corrective action a button is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_id: int = Field(gt=0)

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, text: str | None, *, command: str = "/feedback") -> ActionMeta:
        try:
            return cls.model_validate_json(text or "")
        except ValidationError:
            raise InvalidInput(
                f"This button is from an older version of Loopbot; run `{command} action CA-n` "
                f"(with the action's number) instead."
            ) from None
