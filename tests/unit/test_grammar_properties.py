"""The /feedback grammar under generated input: it never raises; ids, periods and texts round-trip."""

from __future__ import annotations

import re

from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.slack.grammar import SPECS, parse
from bot.slack.parsed import (
    CHART_KINDS,
    Command,
    Done,
    Drop,
    Note,
    Period,
    Plan,
    Resolve,
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
    "actions",
    "action",
    "plan",
    "done",
    "drop",
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
    "action=CA-3",
    "action=FB-3",
    "due=2026-12-31",
    "due=tomorrow",
    "live=2026-06-01T09:00+02:00",
    "live=",
    "CA-3",
    "ca-0",
    "<@U1|Jane Doe>",
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
    assert isinstance(result, Command)
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


@given(
    st.sampled_from(["action", "done x", "drop why", "done live=2026-01-01 x"]),
    st.integers(0, 10**18 - 1),
    st.sampled_from(["CA-{}", "ca-{}", "Ca-{}", "{}"]),
    SEPARATORS,
)
def test_any_action_id_form_gives_the_same_number(
    command: str, n: int, form: str, sep: str
) -> None:
    name, _, rest = command.partition(" ")
    result = parse(f"{name.upper()}{sep}{form.format(n)} {rest}")
    assert getattr(result, "action_id", None) == n


@given(st.integers(0, 10**18 - 1), st.sampled_from(["CA-{}", "ca-{}", "{}"]))
def test_resolve_attaches_any_action_id(n: int, form: str) -> None:
    assert parse(f"resolve FB-1 action={form.format(n)} x") == Resolve(1, action="x", attach=n)


def slack_escaped(typed: str) -> str:
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@given(st.text(min_size=1).filter(lambda t: t.strip()))
def test_done_and_drop_text_round_trips_through_slack_escaping(typed: str) -> None:
    escaped = slack_escaped(typed)
    assert parse(f"drop CA-5 {escaped}") == Drop(5, typed.strip())
    # Text whose first word looks like `key=value` is read as an option: that is the grammar.
    assume(not re.match(r"\s*[A-Za-z_][A-Za-z0-9_-]*=", escaped))
    assert parse(f"done CA-5 {escaped}") == Done(5, None, typed.strip())


@given(
    st.from_regex(r"[UW][A-Z0-9]{2,12}", fullmatch=True),
    st.text(max_size=20).filter(lambda t: "<" not in t and ">" not in t),
    st.text(min_size=1).filter(lambda t: t.strip()),
    st.booleans(),
)
def test_plan_reads_any_mention_and_text(
    user: str, label: str, typed: str, due_first: bool
) -> None:
    mention = f"<@{user}|{label}>" if label else f"<@{user}>"
    options = "due=2026-12-31 cause=Other" if due_first else "cause=Other due=2026-12-31"
    result = parse(f"plan delivery {options} {mention} {slack_escaped(typed)}")
    assert result == Plan("delivery", "other", "2026-12-31", user, typed.strip())
