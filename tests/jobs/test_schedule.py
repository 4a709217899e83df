"""Cron fires in a team's time zone: once per local time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.cron import parse_cron

NEW_YORK = ZoneInfo("America/New_York")


def fires(expr: str, tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    cron, found, at = parse_cron(expr), [], start
    while True:
        at = cron.next_fire(tz, at)
        if at >= end:
            return found
        found.append(at)


@pytest.mark.parametrize(
    "day", [datetime(2026, 3, 8), datetime(2026, 11, 1)], ids=["spring-forward", "fall-back"]
)
def test_huddle_at_0730_new_york_fires_once_a_day_across_dst(day: datetime) -> None:
    start = (day - timedelta(days=2)).replace(tzinfo=NEW_YORK).astimezone(UTC)
    got = fires("30 7 * * *", NEW_YORK, start, start + timedelta(days=5))
    local = [f.astimezone(NEW_YORK) for f in got]
    assert [(t.hour, t.minute) for t in local] == [(7, 30)] * 5
    assert [t.date() for t in local] == [(day + timedelta(days=d)).date() for d in range(-2, 3)]
    # The UTC hour moves by the DST change: 12:30 UTC in winter time, 11:30 UTC in summer time.
    winter, summer = (12, 11)
    expected = [summer if t.dst() else winter for t in local]
    assert [f.hour for f in got] == expected
    assert len({f.date() for f in got}) == 5


def test_a_time_in_the_repeated_hour_fires_once() -> None:
    start = datetime(2026, 10, 31, 4, tzinfo=UTC)
    got = fires("30 1 * * *", NEW_YORK, start, start + timedelta(days=3))
    assert [f.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for f in got] == [
        "10-31 01:30",
        "11-01 01:30",
        "11-02 01:30",
    ]
    assert got[1] == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )  # the first 01:30 (EDT), not the repeat (EST)


def test_a_time_in_the_skipped_hour_fires_at_the_next_valid_time() -> None:
    start = datetime(2026, 3, 7, 12, tzinfo=UTC)
    got = fires("30 2 * * *", NEW_YORK, start, start + timedelta(days=2))
    assert [f.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for f in got] == [
        "03-08 03:30",
        "03-09 02:30",
    ]


def test_previous_fire_is_the_last_fire_at_or_before() -> None:
    cron = parse_cron("30 7 * * mon-fri")
    monday = datetime(2026, 3, 9, 11, 30, tzinfo=UTC)  # 07:30 EDT
    assert cron.previous_fire(NEW_YORK, monday) == monday
    assert cron.previous_fire(NEW_YORK, monday - timedelta(seconds=1)) == datetime(
        2026, 3, 6, 12, 30, tzinfo=UTC
    )
    every_minute = parse_cron("* * * * *")
    assert every_minute.previous_fire(UTC, datetime(2026, 1, 1, 0, 0, 59, tzinfo=UTC)) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
