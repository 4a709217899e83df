"""What the sandbox page sends: one pydantic model per kind of request (a command, a click, a submit…)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CommandIn(BaseModel):
    user: str
    channel: str
    text: str = Field(max_length=4000)


class ClickIn(BaseModel):
    user: str
    channel: str
    ts: str
    action_id: str
    value: str | None = None


class ViewClickIn(BaseModel):
    user: str
    view_id: str
    action_id: str
    value: str | None = None


class ViewSelectIn(BaseModel):
    """A pick in a modal's select that dispatches, with what is typed in the modal's other inputs."""

    user: str
    view_id: str
    action_id: str
    block_id: str | None = None
    value: str | None = None
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)


class HomeClickIn(BaseModel):
    user: str
    action_id: str
    value: str | None = None


class SubmitIn(BaseModel):
    user: str
    view_id: str
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ViewIn(BaseModel):
    user: str
    view_id: str


class UserIn(BaseModel):
    user: str
