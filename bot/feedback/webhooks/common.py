"""What every tool's webhook shares: the mapped item, what cannot be mapped, values read by path."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from config.sources import Routed, is_reference

# A signed timestamp older than this is a replay (SPEC §10: Zendesk, Standard Webhooks).
REPLAY_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Mapped:
    item: dict[str, Any]  # a feedback item of SPEC §4, as POST /api/feedback takes it
    paths: dict[str, str]  # Loopbot field -> where the tool's payload holds it, for the 422s


@dataclass(frozen=True, slots=True)
class Ignored:
    """A test or ping, or an event that is no response: answered 200, nothing stored."""

    reason: str


class Unmappable(Exception):
    """The payload lacks what the mapping needs: 422 naming Loopbot's field and the tool's path."""

    def __init__(self, field: str, path: str, message: str):
        super().__init__(f"{field} ({path}): {message}")
        self.field, self.path, self.message = field, path, message

    def as_dict(self) -> dict[str, Any]:
        return {"index": None, "field": self.field, "path": self.path, "message": self.message}


def same(expected: bytes, given: str | None) -> bool:
    # compare_digest: the time taken must not tell a forger how much of the signature was right.
    return given is not None and hmac.compare_digest(expected, given.strip().encode())


def replayed(signed_at: datetime, now: datetime) -> str | None:
    if now - signed_at > REPLAY_WINDOW:
        return f"the signature's timestamp {signed_at.isoformat()} is more than 5 minutes old"
    if signed_at - now > REPLAY_WINDOW:
        return f"the signature's timestamp {signed_at.isoformat()} is more than 5 minutes ahead"
    return None


def node(payload: object, *keys: str) -> Any:
    """payload[k1][k2]…, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def text(value: object, field: str, path: str, *, required: bool) -> str | None:
    """A payload value as Loopbot's text (ids arrive as numbers too); empty counts as missing."""
    if value is None or value == "":
        if required:
            raise Unmappable(field, path, "is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Unmappable(field, path, f"must be text or a whole number, not {type(value).__name__}")
    return str(value)


def whole(value: object, field: str, path: str) -> int:
    if value is None:
        raise Unmappable(field, path, "is missing")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unmappable(field, path, f"must be a whole number, not {value!r}")
    return value


def from_unix(value: object, field: str, path: str) -> str:
    """Unix seconds (Delighted, Intercom) as the ISO-8601 timestamp the feedback item takes."""
    seconds = whole(value, field, path)
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise Unmappable(field, path, f"{seconds} is not a Unix time in seconds") from None


@dataclass(frozen=True, slots=True)
class Value:
    """One of team, touchpoint, customer, segment: fixed in the YAML, or read from the payload."""

    field: str
    constant: str | None
    root: str | None  # the prefix naming an object of the payload (`hidden`)
    keys: tuple[str, ...]  # the path inside it
    path: str  # the tool's path to the value, for messages

    def read(self, roots: Mapping[str, object]) -> str | None:
        if self.constant is not None:
            return self.constant
        required = self.field in ("team", "touchpoint")
        return text(
            node(roots.get(self.root or ""), *self.keys), self.field, self.path, required=required
        )


def routed_values(source: Routed, where: Mapping[str, str]) -> list[Value]:
    """The source's team or touchpoint, customer and segment, compiled once at start.

    `where` gives each prefix's path in the tool's payload (`hidden` -> `form_response.hidden`).
    """
    values = []
    for field in ("team", "touchpoint", "customer", "segment"):
        setting = getattr(source, field)
        if setting is None:
            continue
        if not is_reference(setting):
            values.append(Value(field, setting, None, (), f"sources: {field}"))
            continue
        root, rest = setting.split(".", 1)
        values.append(Value(field, None, root, tuple(rest.split(".")), f"{where[root]}.{rest}"))
    return values


def fill(
    values: list[Value], roots: Mapping[str, object], item: dict[str, Any], paths: dict[str, str]
) -> None:
    for value in values:
        got = value.read(roots)
        if got is not None:
            item[value.field] = got
            paths[value.field] = value.path
