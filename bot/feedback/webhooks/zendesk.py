"""Zendesk: `X-Zendesk-Webhook-Signature` over timestamp + body, satisfaction good/bad mapped to CSAT."""

from __future__ import annotations

import base64
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
    node,
    replayed,
    routed_values,
    same,
    text,
)
from config.sources import Zendesk

NAME, LABEL = "zendesk", "Zendesk"
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
_WHERE = {"ticket": "ticket"}
RATING = "satisfaction.current_rating"
# A trigger may fire when a survey is sent: the rating is then offered, not given.
NOT_RATED = ("offered", "unoffered")


def verify(key: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    """Zendesk signs timestamp + raw body: base64 of HMAC-SHA256 under the webhook's signing secret."""
    given, stamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
    if not given or not stamp:
        return "the X-Zendesk-Webhook-Signature and -Timestamp headers are required"
    expected = base64.b64encode(hmac.new(key, stamp.encode() + body, hashlib.sha256).digest())
    if not same(expected, given):
        return (
            "the X-Zendesk-Webhook-Signature header does not match the timestamp, the body and "
            "LOOPBOT_WEBHOOK_SECRET_ZENDESK"
        )
    signed_at = _timestamp(stamp)
    if signed_at is None:
        return f"X-Zendesk-Webhook-Signature-Timestamp {stamp!r} is not an ISO-8601 time"
    return replayed(signed_at, now)


def _timestamp(stamp: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


class Mapper:
    def __init__(self, source: Zendesk):
        self.values = routed_values(source, _WHERE)
        self.good, self.bad = source.good, source.bad

    def map(self, payload: Any, headers: Mapping[str, str]) -> Mapped | Ignored:
        ticket, satisfaction = node(payload, "ticket"), node(payload, "satisfaction")
        if ticket is None and satisfaction is None:
            # The body Zendesk's "Test webhook" sends is whatever was typed there ({"say": "hello"}).
            return Ignored("a Zendesk test request: no ticket or satisfaction in the body")
        rating = text(node(satisfaction, "current_rating"), "score", RATING, required=True)
        word = (rating or "").strip().lower()
        if word in NOT_RATED:
            return Ignored(f"the satisfaction rating is {word}, not given yet")
        # Zendesk's API says good/bad; the placeholder renders "Good"/"Bad" (and may add words).
        if word.startswith("good"):
            score = self.good
        elif word.startswith("bad"):
            score = self.bad
        else:
            raise Unmappable("score", RATING, f"{rating!r} is neither good nor bad")
        stamp = headers.get(TIMESTAMP, "")
        sent = _timestamp(stamp)
        item: dict[str, Any] = {
            "id": text(node(ticket, "id"), "id", "ticket.id", required=True),
            # When Zendesk sent it, right after the rating: the body's placeholders carry no time.
            "submitted_at": sent.isoformat() if sent else stamp,
            "metric": "csat",
            "score": score,
        }
        paths = {
            "id": "ticket.id",
            "submitted_at": "X-Zendesk-Webhook-Signature-Timestamp",
            "score": RATING,
        }
        comment_path = "satisfaction.current_comment"
        comment = text(
            node(satisfaction, "current_comment"), "comment", comment_path, required=False
        )
        if comment is not None and comment.strip():
            item["comment"], paths["comment"] = comment, comment_path
        fill(self.values, {"ticket": ticket}, item, paths)
        return Mapped(item, paths)
