"""Slack's limits, whatever the data: digests, stats, the weekly summary, breakdowns, the customer view,
silences, App Home and the resolve modal, with hundreds of teams, long keys and huge comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.silence_model import BreachCount, SilenceDetail
from bot.reports.breakdowns import Group
from bot.reports.customer import CustomerCase, Response, TeamRepeats
from bot.reports.digest import Signal, Verbatim
from bot.reports.queries import Headline, HomeData
from bot.reports.weekly import WeeklySummary
from bot.slack.blocks.action import my_actions_blocks
from bot.slack.blocks.breakdown import breakdown_message
from bot.slack.blocks.customer import customer_message
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.home import home_view
from bot.slack.blocks.modals import resolve_modal
from bot.slack.blocks.silence import (
    end_message,
    home_silence_blocks,
    silences_answer,
    start_message,
)
from bot.slack.blocks.stats import stats_message
from bot.slack.blocks.weekly import weekly_message
from bot.slack.ids import ActionId, CaseMeta
from tests.unit.limits_check import NAMES, TEXTS, assert_message, assert_view, note_count
from tests.unit.test_blocks_action import ca
from tests.unit.test_blocks_breakdown import segments
from tests.unit.test_blocks_customer import N, view
from tests.unit.test_blocks_digest import S, digest
from tests.unit.test_blocks_kit import T0, config, delivery, feedback_case, row, teams
from tests.unit.test_blocks_silence import breach, silence
from tests.unit.test_blocks_stats import delivery as team_stats
from tests.unit.test_blocks_weekly import P as WEEK_SINCE
from tests.unit.test_blocks_weekly import W, delivery_week

FEW = settings(max_examples=50, deadline=None)
H = timedelta(hours=1)


def lines_of(msg: dict) -> list[str]:
    """Every line of every section and context, in order."""
    out = []
    for b in msg["blocks"]:
        if b["type"] == "section":
            out += b["text"]["text"].split("\n")
        elif b["type"] == "context":
            out += [line for e in b["elements"] for line in e["text"].split("\n")]
    return out


def notes(msg: dict, word: str = "more") -> list[int]:
    """The n of every "…and n more" note, as lines of their own or context blocks."""
    found = [note_count(line, word) for line in lines_of(msg) if line.startswith(("…and", "and "))]
    return [n for n in found if n is not None]


def many_teams(names: list[str]) -> dict:
    """The configured teams plus one per name (team-0, team-1, …), named as given."""
    base = delivery()
    extra = {f"team-{i}": base.model_copy(update={"name": n}) for i, n in enumerate(names)}
    return {**teams(), **extra}


@FEW
@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 30), TEXTS, NAMES)
def test_a_huge_digest(
    n_signals: int, n_silences: int, n_lowest: int, text: str, name: str
) -> None:
    summary = {
        "metric": "csat",
        "value": 1.0,
        "comparison": "below",
        "threshold": 80,
        "window": text,
    }
    d = digest(
        signals=tuple(Signal(f"FB-{i}", summary) for i in range(n_signals)),
        silences=tuple(silence(id=i, reason=text, pattern="csat") for i in range(n_silences)),
        lowest=tuple(Verbatim("csat", 1, text, S + i * H) for i in range(n_lowest)),
        praise=Verbatim("nps", 10, text, S),
        top_categories=tuple((f"{name}{i}", i) for i in range(10)),
    )
    team = delivery().model_copy(update={"name": name})
    msg = digest_message(d, team, now=S + 24 * H)
    assert_message(msg)
    lines = lines_of(msg)
    signals = sum(line.startswith(":chart_with_downwards_trend: *FB-") for line in lines)
    quiet = sum(line.startswith(":no_bell: *S-") for line in lines)
    lowest = sum(line.startswith("*CSAT 1/5*") for line in lines)
    assert sum(notes(msg)) == (n_signals - signals) + (n_silences - quiet) + (n_lowest - lowest)
    assert msg["blocks"][-1]["type"] == "actions"


@FEW
@given(st.lists(NAMES, min_size=1, max_size=400), st.integers(0, 300), NAMES)
def test_stats_for_hundreds_of_teams(names: list[str], n_breaches: int, rule: str) -> None:
    all_teams = many_teams(names)
    stats = [replace(team_stats(), team=f"team-{i}") for i in range(len(names))]
    breaches = [
        BreachCount(f"team-{i % len(names)}", "k", rule, 2, T0, T0) for i in range(n_breaches)
    ]
    few = stats_message(stats[:3], all_teams, period_label=rule, all_teams=False, silenced=breaches)
    assert_message(few)
    msg = stats_message(stats, all_teams, period_label=rule, all_teams=True, silenced=breaches)
    assert_message(msg)
    tables = [
        b["text"]["text"] for b in msg["blocks"] if b.get("text", {}).get("text", "")[:3] == "```"
    ]
    rows = sum(len(t.split("\n")) - 3 for t in tables)  # fences and the column names
    assert rows + sum(notes(msg, "more team")) == len(names)
    lines = lines_of(msg)
    quiet = sum(line.startswith("• ") for line in lines)
    left = [note_count(line) or 0 for line in lines if line.startswith("…and")]
    assert quiet + sum(left) == n_breaches


@FEW
@given(st.integers(1, 3_000), NAMES)
def test_the_weekly_summary_of_thousands_of_teams(n: int, name: str) -> None:
    cfg = config()
    weeks = tuple(delivery_week(team=f"{name[:40]}{i}") for i in range(n))
    msg = weekly_message(WeeklySummary(WEEK_SINCE, W, weeks), cfg)
    assert_message(msg)
    tables = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    tables = [t for t in tables if t.startswith("```")]
    rows = sum(len(t.split("\n")) - 3 for t in tables)  # fences and the column names
    assert rows + sum(notes(msg, "more team")) == n


@FEW
@given(st.lists(NAMES, min_size=0, max_size=20), NAMES)
def test_a_breakdown_by_long_segment_keys(values: list[str], by: str) -> None:
    b = segments()
    groups = tuple(Group(v, responses=3, csat_n=3, satisfied=1) for v in values)
    msg = breakdown_message(
        replace(b, by=by[:50], groups=groups), many_teams(values), period_label=by, all_teams=False
    )
    assert_message(msg)


@FEW
@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 200), TEXTS, NAMES)
def test_a_customer_with_hundreds_of_responses(
    n_responses: int, n_cases: int, n_teams: int, comment: str, name: str
) -> None:
    responses = tuple(
        Response(i, "delivery", "csat", 1, True, comment, name, N - i * H)
        for i in range(n_responses)
    )
    cases = tuple(
        CustomerCase(i, "support", "feedback", "resolved", N - i * H, name, "fixed")
        for i in range(n_cases)
    )
    # The totals come from the repeats: 7 more responses than were fetched.
    repeats = (TeamRepeats("delivery", n_responses + 7, 1, n_cases),) + tuple(
        TeamRepeats(f"team-{i}") for i in range(n_teams)
    )
    big = view(
        customer=name, responses=responses, cases=cases, teams=repeats, all_teams=False,
        scope=tuple(f"team-{i}" for i in range(n_teams)), shared_causes=((name, 2),) * 20,
    )  # fmt: skip
    msg = customer_message(big, many_teams([name] * n_teams))
    assert_message(msg)
    lines = lines_of(msg)
    shown_responses = sum(line.startswith("• ") and " · CSAT *1*" in line for line in lines)
    shown_cases = sum(line.startswith("• *FB-") for line in lines)
    if n_responses:
        assert shown_responses + sum(notes(msg, "more response")) == n_responses + 7
    if n_cases:
        assert shown_cases + sum(notes(msg, "more case")) == n_cases


@FEW
@given(st.integers(1, 600), st.integers(0, 300), TEXTS, NAMES)
def test_silences_their_posts_and_answers(n: int, n_breaches: int, reason: str, rule: str) -> None:
    team = delivery().model_copy(update={"name": rule})
    silences = [silence(id=i, reason=reason, rules=(rule,) * 30, pattern="csat") for i in range(n)]
    ended = replace(silences[0], ended_at=T0 + H, ended_by="U0SUPER1")
    breaches = [breach(rule, i, i + 1, recovered=i % 2 == 0) for i in range(n_breaches)]
    assert_message(start_message(silences[0], team, command=rule))
    ends = end_message(SilenceDetail(ended, breaches), team)
    assert_message(ends)
    shown = sum(line.startswith("• ") for line in lines_of(ends))
    assert shown + sum(notes(ends)) == n_breaches
    answer = silences_answer(silences, title=rule, teams={"delivery": team}, now=T0)
    assert_message(answer)
    shown = sum(line.startswith("• *S-") for line in lines_of(answer))
    assert shown + sum(note_count(line) or 0 for line in lines_of(answer)[-1:]) == n


def context_note(view: dict, needle: str, word: str = "more") -> int:
    texts = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    return sum(note_count(t, word) or 0 for t in texts if needle in t)


@FEW
@given(st.integers(0, 300), st.integers(0, 800), st.integers(0, 3_000), NAMES, TEXTS)
def test_app_home_of_a_leader(
    n_assigned: int, n_open: int, n_teams: int, name: str, text: str
) -> None:
    heavy = {"metric": "csat", "score": 1, "category": name}
    data = HomeData(
        user="U0LEADER1",
        assigned=[row(i + 1, assignee="U0LEADER1", summary=heavy) for i in range(n_assigned)],
        team_open=[row(i, summary=heavy) for i in range(n_open)],
        headlines=[Headline(f"team-{i % 7}", 80.0, 10) for i in range(n_teams)],
    )
    mine = my_actions_blocks(
        [ca(id=i, text=text, cause=name) for i in range(1, 41)], teams(), now=T0
    )
    quiet = home_silence_blocks([silence(id=i, reason=text) for i in range(1, 41)], teams(), now=T0)
    home = home_view(data, many_teams([name] * 7), now=T0, own_actions=mine, silenced=quiet)
    assert_view(home)
    sections = [b for b in home["blocks"] if b["type"] == "section"]
    assigned = sum(b.get("accessory", {}).get("action_id") == ActionId.SHOW for b in sections)
    listed = [
        line for b in sections if "accessory" not in b for line in b["text"]["text"].split("\n")
    ]
    open_shown = sum(line.startswith("• *FB-") for line in listed)
    headlines = sum(" — CSAT " in line for line in listed)
    assert assigned + context_note(home, "list mine") == n_assigned
    assert open_shown + context_note(home, "oldest first") == n_open
    assert headlines + context_note(home, "stats all", "more team") == n_teams


@FEW
@given(st.lists(NAMES, min_size=1, max_size=300), st.integers(0, 150), TEXTS)
def test_the_resolve_modal_with_a_huge_taxonomy(
    causes: list[str], n_actions: int, text: str
) -> None:
    actions = [ca(id=i, text=text, cause=causes[0]) for i in range(n_actions)]
    modal = resolve_modal(
        feedback_case(summary={"category": causes[0]}),
        causes=causes,
        meta=CaseMeta(case_id=12, channel="C0DELIVERY"),
        cause=causes[0],
        playbook=[text] * 10,
        suggestions=[text] * 10,
        open_actions=actions,
    )
    assert_view(modal)
