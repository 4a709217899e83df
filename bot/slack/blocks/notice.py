"""Small replies: a one-line ephemeral message, and a modal that only says what happened."""

from __future__ import annotations

from typing import Any


def notice(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    # A modal title is at most 24 characters (Slack's limit).
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }
