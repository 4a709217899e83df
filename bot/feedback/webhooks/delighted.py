"""Delighted: `X-Delighted-Webhook-Signature` checked, `survey_response.*` events mapped."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.feedback.webhooks.common import (
    Ignored,
    Mapped,
    Unmappable,
    fill,
    from_unix,
    node,
    routed_values,
    same,
    text,
    whole,
)
from config.sources import Delighted

NAME, LABEL = "delighted", "Delighted"
SIGNATURE = "x-delighted-webhook-signature"
RESPONSE_EVENTS = ("survey_response.created", "survey_response.updated")
_WHERE = {"properties": "event_data.person_properties", "person": "event_data.person"}
# Delighted's CES asks how strongly one agrees that something "made it easy", 7 = strongly agree;
# Loopbot's CES is effort, 7 = most effort (SPEC §2): the scale is turned around.
CES_TOP = 7


def verify(key: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    """Delighted signs the raw body with the project's API key: hex HMAC-SHA256, `sha256=` first."""
    given = headers.get(SIGNATURE)
    if not given:
        return "the X-Delighted-Webhook-Signature header is missing"
    digest = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
    # Sent as `sha256=<hex>`; the bare hex digest is taken too.
    expected = b"sha256=" + digest if given.strip().startswith("sha256=") else digest
    if not same(expected, given.lower()):
        return (
            "the X-Delighted-Webhook-Signature header does not match the body and "
            "LOOPBOT_WEBHOOK_SECRET_DELIGHTED (the project's API key)"
        )
    return None


class Mapper:
    def __init__(self, source: Delighted):
        self.values = routed_values(source, _WHERE)

    def map(self, payload: Any, headers: Mapping[str, str]) -> Mapped | Ignored:
        event = node(payload, "event_type")
        if event is None:
            raise Unmappable("event", "event_type", "is missing: Delighted names each event's type")
        if event not in RESPONSE_EVENTS:  # unsubscribe.created and whatever Delighted adds
            return Ignored(f"a Delighted {event} event is not a survey response")
        data = node(payload, "event_data")
        if not isinstance(data, dict):
            raise Unmappable("id", "event_data", "is missing")
        kind = data.get("survey_type")
        if kind not in ("nps", "csat", "ces"):
            raise Unmappable(
                "metric",
                "event_data.survey_type",
                f"{kind!r} is not a survey type Loopbot measures (nps, csat, ces)"
                if kind is not None
                else "is missing",
            )
        score = whole(data.get("score"), "score", "event_data.score")
        item: dict[str, Any] = {
            "id": text(data.get("id"), "id", "event_data.id", required=True),
            "submitted_at": from_unix(
                data.get("created_at"), "submitted_at", "event_data.created_at"
            ),
            "metric": kind,
            "score": CES_TOP + 1 - score if kind == "ces" else score,
        }
        paths = {
            "id": "event_data.id",
            "submitted_at": "event_data.created_at",
            "metric": "event_data.survey_type",
            "score": "event_data.score",
        }
        comment = text(data.get("comment"), "comment", "event_data.comment", required=False)
        if comment is not None:
            item["comment"], paths["comment"] = comment, "event_data.comment"
        roots = {"properties": data.get("person_properties"), "person": data.get("person")}
        fill(self.values, roots, item, paths)
        return Mapped(item, paths)
