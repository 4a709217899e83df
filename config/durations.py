"""Durations as admins write them in the config and users read them in Slack: 30m, 4h, 2d, 1w."""

from __future__ import annotations

import re
from datetime import timedelta

# Largest first: format_duration picks the first unit that divides exactly, which is the shortest text.
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
# ASCII digits only: \d would also accept other scripts' digits, which int() then reads silently.
_DURATION = re.compile(r"([0-9]+)([mhdw])")
HINT = "use 30m, 4h, 2d, 1w"


def parse_duration(text: str) -> timedelta:
    """`30m`, `4h`, `2d` or `1w` (a positive whole amount and one unit) as a timedelta."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or int(match[1]) == 0:
        raise ValueError(f'"{text}" is not a duration ({HINT})')
    try:
        return int(match[1]) * _UNITS[match[2]]
    except OverflowError:
        raise ValueError(f'"{text}" is too long to be a duration ({HINT})') from None


def format_duration(td: timedelta) -> str:
    """The shortest exact spelling of a whole number of minutes: 1d, 90m, 2w (and 0m for zero)."""
    if td < timedelta(0) or td % _UNITS["m"]:
        raise ValueError(f"{td} is not a whole, non-negative number of minutes")
    if not td:
        return "0m"
    unit, size = next((u, s) for u, s in _UNITS.items() if not td % s)
    return f"{td // size}{unit}"
