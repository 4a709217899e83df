"""Local days and weeks of a chart's time zone: the period's bounds, and SQL that buckets UTC timestamps by local day."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal
from sqlalchemy.orm import Session


def period_bounds(tz: ZoneInfo, days: int, now: datetime) -> tuple[datetime, list[date]]:
    """The chart's period: today and the days - 1 days before it, in `tz`; (since as UTC, the local days).

    Whole local days rather than the last days × 24 h, so the first bar is not a fraction of a day; the last
    one is today so far.
    """
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    return local_midnight(first, tz), [first + timedelta(days=i) for i in range(days)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day(
    s: Session, column: ColumnElement[datetime], tz: ZoneInfo, since: datetime, until: datetime
) -> ColumnElement:
    """The local calendar day of `column` in `tz`, as the database spells dates ('YYYY-MM-DD' text on SQLite,
    a date on PostgreSQL); `day_key` turns either into a `date`."""
    if s.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(tz.key, column))
    # SQLite knows no time zones: cut the period where the zone's UTC offset changes (twice a year at most)
    # and shift each piece by its own offset, exactly, with date()'s '+N seconds' modifier.
    pieces = offset_pieces(tz, since, until)
    if len(pieces) == 1:
        return func.date(column, _modifier(pieces[0][1]))
    shift = case(
        *((column < end, literal(_modifier(offset))) for end, offset in pieces[:-1]),
        else_=literal(_modifier(pieces[-1][1])),
    )
    return func.date(column, shift)


def day_key(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def offset_pieces(tz: ZoneInfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """[(end of the piece in UTC, offset in seconds)], covering [since, until); the last piece ends at `until`."""
    pieces: list[tuple[datetime, int]] = []
    start, offset = since, _offset(tz, since)
    while start < until:
        probe = min(start + timedelta(days=1), until)
        if _offset(tz, probe) == offset:
            start = probe
            continue
        # The offset changed within (start, probe]; zones change on a whole second, so bisect over seconds.
        low, high = math.floor(start.timestamp()), math.ceil(probe.timestamp())
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if _offset(tz, _at(mid)) == offset else (low, mid)
        pieces.append((_at(high), offset))
        start, offset = _at(high), _offset(tz, _at(high))
    pieces.append((until, offset))
    return pieces


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _offset(tz: ZoneInfo, at: datetime) -> int:
    return int(at.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]


def _modifier(seconds: int) -> str:
    return f"{seconds:+d} seconds"
