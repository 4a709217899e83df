"""Small replies: a one-line ephemeral message, a modal that only says what happened, a core error's text."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bot.errors import UserFacingError
from bot.slack.blocks.text import fmt_time, pack_lines, who


def notice(text: str) -> dict[str, Any]:
    """`text` in as many sections as it needs: a section holds 3,000 characters (the help is longer)."""
    return {
        "text": text[:3000],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(group)}}
            for group in pack_lines(text.split("\n"))
        ],
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    # A modal title is at most 24 characters (Slack's limit).
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }


def error_text(error: UserFacingError) -> str:
    """A core error as Slack shows it: the people it names as mentions, its time in the team's zone."""
    return error.render(who, lambda at, tz: fmt_time(at, tz or UTC))
