"""Durations as written in the config (30m, 4h, 2d, 1w): parsing, exact messages, shortest formatting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("90m", timedelta(minutes=90)),
        ("007h", timedelta(hours=7)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_parses_amount_and_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "24x",
        "90s",
        "0m",
        "0w",
        "",
        "m",
        "15",
        "-1h",
        "1.5h",
        "1H",
        "1 h",
        "1h30m",
        "h1",
        "\uff11h",
        "1d ago",
    ],
)
def test_rejects_anything_else_with_the_exact_message(text: str) -> None:
    with pytest.raises(ValueError) as exc:
        parse_duration(text)
    assert str(exc.value) == f'"{text}" is not a duration (use 30m, 4h, 2d, 1w)'


def test_a_duration_beyond_what_timedelta_holds_is_refused_not_crashed() -> None:
    with pytest.raises(
        ValueError, match=r'^"99999999999w" is too long to be a duration \(use 30m, 4h, 2d, 1w\)$'
    ):
        parse_duration("99999999999w")


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(days=1), "1d"),
        (timedelta(minutes=90), "90m"),
        (timedelta(weeks=2), "2w"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=14), "2w"),
        (timedelta(days=10), "10d"),
        (timedelta(minutes=1), "1m"),
        (timedelta(0), "0m"),
    ],
)
def test_formats_in_the_largest_exact_unit(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


@pytest.mark.parametrize(
    "td", [timedelta(seconds=90), timedelta(minutes=-5), timedelta(microseconds=1)]
)
def test_format_refuses_what_has_no_exact_spelling(td: timedelta) -> None:
    with pytest.raises(ValueError, match="is not a whole, non-negative number of minutes"):
        format_duration(td)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from("mhdw"))
def test_format_then_parse_gives_the_same_duration(amount: int, unit: str) -> None:
    td = parse_duration(f"{amount}{unit}")
    text = format_duration(td)
    assert parse_duration(text) == td
    assert len(text) <= len(f"{amount}{unit}")
