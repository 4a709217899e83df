"""Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` over id.timestamp.body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.feedback.webhooks.common import Ignored, replayed

NAME, LABEL = "standard", "Standard Webhooks"
ID, TIMESTAMP, SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
SECRET_PREFIX = "whsec_"


def key(secret: str) -> bytes:
    """The HMAC key: `whsec_` + base64 as Standard Webhooks secrets are written, else the raw text."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            pass  # not base64 after all: the text itself is the secret
    return secret.encode()


def verify(key: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    msg_id, stamp, given = headers.get(ID), headers.get(TIMESTAMP), headers.get(SIGNATURE)
    if not msg_id or not stamp or not given:
        return "the webhook-id, webhook-timestamp and webhook-signature headers are required"
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    )
    # Space-separated `v1,<base64>` entries (several while a secret is rotated): one match is enough.
    matched = False
    for entry in given.split():
        version, _, signature = entry.partition(",")
        if version == "v1":
            matched |= hmac.compare_digest(expected, signature.encode())
    if not matched:
        return (
            "no v1 entry of the webhook-signature header matches the id, the timestamp, the body "
            "and LOOPBOT_WEBHOOK_SECRET_STANDARD"
        )
    try:
        signed_at = datetime.fromtimestamp(int(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        return f"webhook-timestamp {stamp!r} is not a Unix time in seconds"
    return replayed(signed_at, now)


def ping(payload: Any) -> Ignored | None:
    """A connectivity test in Standard Webhooks' envelope ({"type": "ping", …}); feedback has no type."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if isinstance(kind, str) and (kind == "ping" or kind.endswith(".ping")):
        return Ignored(f"a {kind} event")
    return None
