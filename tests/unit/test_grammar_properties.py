"""The /feedback grammar under generated input: it never raises, and ids, periods and notes round-trip."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.slack.grammar import SPECS, parse
from bot.slack.parsed import (
    CHART_KINDS,
    Ack,
    Assign,
    Chart,
    Digest,
    Help,
    ListCases,
    Note,
    Period,
    Reopen,
    Resolve,
    Show,
    Stats,
    Usage,
)

# -- properties ---------------------------------------------------------------------------------------

WORDS = [
    "help",
    "?",
    "list",
    "show",
    "ack",
    "acknowledge",
    "assign",
    "note",
    "resolve",
    "reopen",
    "digest",
    "chart",
    "stats",
    *CHART_KINDS,
    "open",
    "overdue",
    "mine",
    "all",
    "me",
    "delivery",
    "support",
    "FB-12",
    "fb-0",
    "#3",
    "12",
    "FB-",
    "7d",
    "30d",
    "12w",
    "0d",
    "999w",
    "731d",
    "<@U123ABC>",
    "<@U1|x>",
    "@bob",
    "cause=other",
    "root_cause=x",
    "outcome=fixed",
    "cause=",
    "foo=bar",
    "=",
    "&amp;",
    "&lt;",
    "&gt;",
    "<!channel>",
    "`",
    "é",
]
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", " \n "])


@st.composite
def near_commands(draw: st.DrawFn) -> str:
    """Commands assembled from the language's own words, often valid, often one word off."""
    words = draw(
        st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), min_size=1, max_size=7)
    )
    out = words[0]
    for word in words[1:]:
        out += draw(SEPARATORS) + word
    return out


def check(result: object) -> None:
    assert isinstance(
        result,
        Help
        | ListCases
        | Show
        | Ack
        | Assign
        | Note
        | Resolve
        | Reopen
        | Digest
        | Chart
        | Stats
        | Usage,
    )
    if isinstance(result, Usage):
        assert result.message.strip()
        assert "help" in result.message and "`" in result.message


@given(st.text())
@example("\x00")
@example("list " + "9" * 5000 + "d")
@example("show " + "9" * 5000)
def test_any_text_parses_without_raising(text: str) -> None:
    check(parse(text))


@given(near_commands())
def test_near_valid_commands_parse_without_raising(text: str) -> None:
    check(parse(text))


@given(
    st.text(alphabet=st.characters(blacklist_categories=["Z", "Cc"]), min_size=1, max_size=20),
    st.text(),
)
def test_unknown_first_word_is_usage_or_help(word: str, rest: str) -> None:
    known = {*SPECS, "?", "acknowledge"}
    result = parse(f"{word} {rest}")
    if word.lower() in known:
        return
    assert isinstance(result, Usage) and (
        "Unknown command" in result.message or "Start with what to do" in result.message
    )


@given(
    st.sampled_from(["show", "ack", "note x", "reopen why", "resolve"]),
    st.integers(0, 10**18 - 1),
    st.sampled_from(["FB-{}", "fb-{}", "#{}", "{}"]),
    SEPARATORS,
)
def test_any_case_id_form_gives_the_same_number(command: str, n: int, form: str, sep: str) -> None:
    name, _, rest = command.partition(" ")
    result = parse(f"{name.upper()}{sep}{form.format(n)} {rest}")
    assert getattr(result, "case_id", None) == n


@given(st.integers(1, 2000), st.sampled_from(["d", "w"]))
def test_periods_up_to_two_years(amount: int, unit: str) -> None:
    days = amount * 7 if unit == "w" else amount
    result = parse(f"stats all {amount}{unit}")
    if days <= 730:
        assert result == Stats("all", Period(days, f"{amount}{unit}"))
    else:
        assert isinstance(result, Usage) and f"is {days} days" in result.message


@given(st.text(min_size=1).filter(lambda t: t.strip()))
def test_note_text_round_trips_through_slack_escaping(typed: str) -> None:
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert parse(f"note FB-5 {escaped}") == Note(5, typed.strip())
