"""Small replies: a one-line ephemeral message, a modal that only says what happened, a core error's text."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bot.errors import UserFacingError
from bot.slack.blocks.fit import Listing, fit_message, fit_view
from bot.slack.blocks.text import fmt_time, plural, who


def notice(text: str) -> dict[str, Any]:
    """`text` in as many sections as it needs: a section holds 3,000 characters (the help is longer)."""
    lines = Listing(text.split("\n"), lambda n: f"…and {plural(n, 'more line')}" if n else "")
    return fit_message(text, [lines])


def notice_view(title: str, text: str) -> dict[str, Any]:
    # fit_view cuts the title to Slack's 24 characters and the text to a section's 3,000.
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
    }
    return fit_view(view, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def error_text(error: UserFacingError) -> str:
    """A core error as Slack shows it: the people it names as mentions, its time in the team's zone."""
    return error.render(who, lambda at, tz: fmt_time(at, tz or UTC))
