"""Intercom: `X-Hub-Signature` (HMAC-SHA1) checked, `conversation.rating.added` mapped to CSAT."""

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
from config.sources import Intercom

NAME, LABEL = "intercom", "Intercom"
SIGNATURE = "x-hub-signature"
TOPIC = "conversation.rating.added"
RATING = "data.item.conversation_rating"
_WHERE = {"contact": f"{RATING}.contact", "attributes": "data.item.custom_attributes"}


def verify(key: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    """Intercom signs the raw body with the app's client secret: `sha1=` + hex HMAC-SHA1."""
    given = headers.get(SIGNATURE)
    if not given:
        return "the X-Hub-Signature header is missing"
    expected = b"sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest().encode()
    if not same(expected, given.lower()):
        return (
            "the X-Hub-Signature header does not match the body and "
            "LOOPBOT_WEBHOOK_SECRET_INTERCOM (the app's client secret)"
        )
    return None


class Mapper:
    def __init__(self, source: Intercom):
        self.values = routed_values(source, _WHERE)

    def map(self, payload: Any, headers: Mapping[str, str]) -> Mapped | Ignored:
        topic = node(payload, "topic")
        if topic == "ping":
            return Ignored("Intercom's ping")
        if topic is None:
            raise Unmappable(
                "topic", "topic", "is missing: Intercom names each notification's topic"
            )
        if topic != TOPIC:
            return Ignored(f"an Intercom {topic} notification is not a conversation rating")
        conversation = node(payload, "data", "item")
        rating = node(conversation, "conversation_rating")
        if not isinstance(rating, dict):
            raise Unmappable("score", RATING, "is missing")
        # Ratings are 1-5 (Intercom's conversation_rating model), CSAT's own scale.
        item: dict[str, Any] = {
            "id": text(node(conversation, "id"), "id", "data.item.id", required=True),
            "metric": "csat",
            "score": whole(rating.get("rating"), "score", f"{RATING}.rating"),
        }
        paths = {"id": "data.item.id", "score": f"{RATING}.rating"}
        # The notification's time is when the rating was added; the rating's own created_at is when
        # it was asked for.
        at, at_path = payload.get("created_at"), "created_at"
        if at is None:
            at, at_path = rating.get("created_at"), f"{RATING}.created_at"
        item["submitted_at"], paths["submitted_at"] = (
            from_unix(at, "submitted_at", at_path),
            at_path,
        )
        remark = text(rating.get("remark"), "comment", f"{RATING}.remark", required=False)
        if remark is not None:
            item["comment"], paths["comment"] = remark, f"{RATING}.remark"
        # API versions before 2.0 call the contact `customer`.
        contact = rating.get("contact") or rating.get("customer")
        fill(
            self.values,
            {"contact": contact, "attributes": node(conversation, "custom_attributes")},
            item,
            paths,
        )
        return Mapped(item, paths)
