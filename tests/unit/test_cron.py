"""The strict 5-field cron parser, its messages, and what APScheduler 3 makes of its trigger arguments."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from config.cron import Cron, parse_cron

PARIS = ZoneInfo("Europe/Paris")
SUNDAY = datetime(2024, 6, 2, 12, 0, tzinfo=PARIS)  # a Sunday, after 09:00


def fire_times(expr: str, count: int, start: datetime = SUNDAY) -> list[datetime]:
    """The next `count` fire times of a real APScheduler CronTrigger built from the parsed expression."""
    trigger = CronTrigger(**parse_cron(expr).trigger_kwargs(), timezone=start.tzinfo)
    times: list[datetime] = []
    previous, now = None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        times.append(fire)
        previous, now = fire, fire
    return times


def test_weekdays_1_to_5_fire_monday_to_friday_only() -> None:
    times = fire_times("0 9 * * 1-5", 10)
    assert [t.strftime("%a") for t in times] == ["Mon", "Tue", "Wed", "Thu", "Fri"] * 2
    assert {(t.hour, t.minute, t.second) for t in times} == {(9, 0, 0)}
    assert times[0] == datetime(2024, 6, 3, 9, 0, tzinfo=PARIS)


@pytest.mark.parametrize("expr", ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"])
def test_0_and_7_are_both_sunday(expr: str) -> None:
    assert [t.strftime("%a %d") for t in fire_times(expr, 3)] == ["Sun 09", "Sun 16", "Sun 23"]


@pytest.mark.parametrize("number", range(8))
def test_every_numeric_weekday_keeps_its_cron_meaning(number: int) -> None:
    expected = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][number]
    assert {t.strftime("%a") for t in fire_times(f"30 7 * * {number}", 3)} == {expected}


@pytest.mark.parametrize(
    ("expr", "days"),
    [
        ("0 9 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * mon-sun", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun"]),
        (
            "0 9 * * */2",
            ["Tue", "Thu", "Sat", "Sun"],
        ),  # cron's */2 is 0,2,4,6, i.e. Sun, Tue, Thu, Sat
        ("0 9 * * Mon,WED,fri", ["Mon", "Wed", "Fri"]),
    ],
)
def test_weekday_names_ranges_and_steps(expr: str, days: list[str]) -> None:
    assert (
        sorted(
            {t.strftime("%a") for t in fire_times(expr, 14)},
            key=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].index,
        )
        == days
    )


def test_steps_ranges_lists_and_month_names_fire_when_cron_would() -> None:
    times = fire_times("*/20 9-17/4 1,15 jan,jul *", 6, datetime(2024, 1, 1, 0, 0, tzinfo=PARIS))
    assert [t.strftime("%m-%d %H:%M") for t in times] == [
        "01-01 09:00",
        "01-01 09:20",
        "01-01 09:40",
        "01-01 13:00",
        "01-01 13:20",
        "01-01 13:40",
    ]
    later = fire_times("0 0 1 jul *", 1, datetime(2024, 1, 2, tzinfo=PARIS))
    assert later == [datetime(2024, 7, 1, tzinfo=PARIS)]


def test_trigger_kwargs_use_names_for_weekdays_and_numbers_elsewhere() -> None:
    assert parse_cron("0 9 * * 1-5").trigger_kwargs() == {
        "minute": "0",
        "hour": "9",
        "day": "*",
        "month": "*",
        "day_of_week": "mon,tue,wed,thu,fri",
    }
    assert parse_cron("*/15 8-18/2 1-7 Feb-Apr,dec *").trigger_kwargs() == {
        "minute": "*/15",
        "hour": "8-18/2",
        "day": "1-7",
        "month": "2-4,12",
        "day_of_week": "*",
    }
    assert parse_cron("0 9 * * 0,7,sat").trigger_kwargs()["day_of_week"] == "sat,sun"


def test_cron_is_a_frozen_value_keeping_its_text() -> None:
    cron = parse_cron("  30 7 * * mon-sat ")
    assert cron.expr == "30 7 * * mon-sat"
    assert str(cron) == "30 7 * * mon-sat"
    assert cron == Cron("30 7 * * mon-sat")
    assert len({cron, Cron("30 7 * * mon-sat")}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        cron.expr = "0 9 * * *"  # type: ignore[misc]


def test_constructing_a_cron_directly_validates_it_too() -> None:
    with pytest.raises(ValueError, match="minute 60 is out of range 0-59"):
        Cron("60 9 * * *")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "0 9 * *",
            '"0 9 * *" has 4 fields; a cron needs 5 (minute hour day month weekday), e.g. "0 9 * * mon-fri"',
        ),
        (
            "0 0 9 * * mon",
            '"0 0 9 * * mon" has 6 fields; a cron needs 5 (minute hour day month weekday), '
            'e.g. "0 9 * * mon-fri"',
        ),
        (
            "daily",
            '"daily" has 1 field; a cron needs 5 (minute hour day month weekday), e.g. "0 9 * * mon-fri"',
        ),
        (
            "",
            '"" has 0 fields; a cron needs 5 (minute hour day month weekday), e.g. "0 9 * * mon-fri"',
        ),
        (
            "@daily",
            '"@daily": shortcuts such as @daily are not supported; write the 5 fields, e.g. "0 9 * * mon-fri"',
        ),
        ("61 9 * * *", '"61 9 * * *": minute 61 is out of range 0-59'),
        ("0 24 * * *", '"0 24 * * *": hour 24 is out of range 0-23'),
        ("0 9 0 * *", '"0 9 0 * *": day 0 is out of range 1-31'),
        ("0 9 32 * *", '"0 9 32 * *": day 32 is out of range 1-31'),
        ("0 9 * 13 *", '"0 9 * 13 *": month 13 is out of range 1-12'),
        ("0 9 * * 8", '"0 9 * * 8": weekday 8 is out of range 0-7'),
        (
            "0 9 * * monday",
            '"0 9 * * monday": weekday "monday" is not a number 0-7 (0 and 7 are Sunday) '
            "or a name mon-sun",
        ),
        ("0 9 * janu *", '"0 9 * janu *": month "janu" is not a number 1-12 or a name jan-dec'),
        (
            "0 9 * * mon#2",
            '"0 9 * * mon#2": weekday "mon#2" is not a number 0-7 (0 and 7 are Sunday) or a name mon-sun',
        ),
        ("0 9 ? * *", '"0 9 ? * *": day "?" is not a number 1-31'),
        ("0 9 L * *", '"0 9 L * *": day "L" is not a number 1-31'),
        ("x 9 * * *", '"x 9 * * *": minute "x" is not a number 0-59'),
        ("0 mon * * *", '"0 mon * * *": hour "mon" is not a number 0-23'),
        ("*/0 * * * *", '"*/0 * * * *": minute step "0" must be a whole number from 1 to 59'),
        ("*/60 * * * *", '"*/60 * * * *": minute step "60" must be a whole number from 1 to 59'),
        ("0 */x * * *", '"0 */x * * *": hour step "x" must be a whole number from 1 to 23'),
        (
            "5/10 * * * *",
            '"5/10 * * * *": minute "5/10": a step needs a range; write 5-59/10 or */10',
        ),
        (
            "30-10 * * * *",
            '"30-10 * * * *": minute range 30-10 runs backwards; a range goes from the smaller value '
            "to the larger, so split a wrap-around into two, joined by a comma",
        ),
        (
            "0 9 * * fri-mon",
            '"0 9 * * fri-mon": weekday range fri-mon runs backwards; a range goes from the smaller '
            "value to the larger, so split a wrap-around into two, joined by a comma",
        ),
        ("1,,2 * * * *", '"1,,2 * * * *": minute "1,,2" has an empty entry in its comma list'),
        (
            "0 9 1 * mon",
            '"0 9 1 * mon": day 1 and weekday mon are both set, and cron then fires on either of them, '
            "which is rarely meant; use * for one of the two",
        ),
        ("0 9 31 2 *", '"0 9 31 2 *": never fires: day 31 does not occur in month 2'),
        (
            "0 9 31 apr,jun *",
            '"0 9 31 apr,jun *": never fires: day 31 does not occur in month apr,jun',
        ),
    ],
)
def test_errors_name_the_field_and_the_problem(expr: str, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_cron(expr)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "expr", ["0 0 29 2 *", "0 9 */2 * mon", "0 9 1-7 * *", "0 9 * * *", "59 23 31 dec *"]
)
def test_accepts_expressions_that_do_fire(expr: str) -> None:
    assert fire_times(expr, 1, datetime(2024, 1, 1, tzinfo=PARIS))


def test_non_text_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r'^a cron expression is text in quotes, e.g. "0 9 \* \* mon-fri"$'
    ):
        parse_cron(900)  # type: ignore[arg-type]
