"""Text for Slack mrkdwn: escaping, truncation that respects Slack's limits, durations and team-local times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from bot.cases.checks import SYSTEM_ACTOR

ELLIPSIS = "…"
_FENCE = "```"
_CLOSE = "\n```"
# Slack's three control characters; escaping them is what makes <!channel>, <@U…> and <url|label> inert.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPACE = re.compile(r"\s+")
_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """The raw text cut to at most `limit` characters, ending in … when it was cut."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def cut(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to at most `limit` characters, ending in … when cut.

    Never inside an entity (`&amp;`) or a `<…>` mention, link or date, whose half Slack would show as
    markup; a code block left open is closed, or it would swallow the look of the rest.
    """
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    out = text[: _safe_end(text, limit - 1)].rstrip() + ELLIPSIS
    if out.count(_FENCE) % 2:
        out = text[: _safe_end(text, max(limit - 1 - len(_CLOSE), 0))].rstrip() + ELLIPSIS
        if out.count(_FENCE) % 2:
            out += _CLOSE
    return out


def _safe_end(text: str, end: int) -> int:
    """The largest end ≤ `end` that leaves no half entity, half <…> or half ``` behind."""
    amp = text.rfind("&", max(end - 5, 0), end)  # &amp; is the longest entity escape() writes
    if amp >= 0 and ";" not in text[amp:end]:
        end = amp
    lt = text.rfind("<", 0, end)
    if lt > text.rfind(">", 0, end):
        end = lt
    while 0 < end < len(text) and text[end - 1] == "`" and text[end] == "`":
        end -= 1
    return end


def clip(text: str, limit: int, budget: int | None = None) -> str:
    """Escaped mrkdwn of `text` truncated to `limit` raw characters, and at most `budget` once escaped.

    The limit counts what people wrote (an `&` is one character to them); the budget is Slack's, which
    counts the escaped form, and escaping can grow a text up to five times (`&` → `&amp;`).
    """
    out = escape(truncate(text, limit))
    if budget is None or len(out) <= budget:
        return out
    size = keep = 0
    for i, ch in enumerate(text):
        size += len(_ESCAPES.get(ch, ch))
        if size > budget - len(ELLIPSIS):
            break
        keep = i + 1
    # Cutting the raw text (not the escaped one) never leaves half an entity such as "&am".
    return escape(text[:keep].rstrip()) + ELLIPSIS


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed, for fallback texts and list lines."""
    return _SPACE.sub(" ", text).strip()


def quote(text: str) -> str:
    """Already-escaped mrkdwn as a block quote: Slack quotes one line per leading `>`."""
    return "\n".join(f">{line}" for line in text.split("\n"))


def who(actor: str | None) -> str:
    """A mention for a Slack user id, "Loopbot" for the system; anything else escaped, never a mention."""
    if actor is None:
        return "someone"
    if actor == SYSTEM_ACTOR:
        return "Loopbot"
    return f"<@{actor}>" if _USER.fullmatch(actor) else escape(actor)


def fmt_duration(td: timedelta) -> str:
    """4m, 1h 20m, 2d 3h: two units at most, whole minutes rounded down, <1m below a minute."""
    if td < timedelta(0):
        return "-" + fmt_duration(-td)
    minutes = int(td.total_seconds() // 60)
    if minutes < 1:
        return "<1m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def fmt_time(dt: datetime, tz: tzinfo) -> str:
    """Mon 2 Dec 09:15 EST, in the team's zone (datetimes without a zone are taken as UTC)."""
    local = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M %Z}"


def parse_time(value: object) -> datetime | None:
    """An ISO timestamp from a case summary (JSON keeps them as text); None when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def fmt_number(value: float, decimals: int = 1) -> str:
    """80 for 80.0, 72.4 for 72.41: no trailing .0 on whole numbers."""
    rounded = round(float(value), decimals)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.{decimals}f}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pack_lines(lines: list[str], limit: int = 3_000) -> list[list[str]]:
    """Lines grouped so that each group, joined by newlines, stays within `limit` (a section holds 3,000)."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        line = cut(line, limit)  # callers keep lines shorter; this only bounds an odd one
        if groups and size + 1 + len(line) <= limit:
            groups[-1].append(line)
            size += 1 + len(line)
        else:
            groups.append([line])
            size = len(line)
    return groups
