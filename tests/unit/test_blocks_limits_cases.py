"""Slack's limits, whatever the data: the case message, its timeline, lists of cases and actions, alert
storms, escalations and notices, with huge comments, long names and hundreds of rows."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reports.queries import CaseList
from bot.slack.blocks.action import action_detail, action_list, action_message, overdue_message
from bot.slack.blocks.case import case_message, group_message
from bot.slack.blocks.escalation import leaders_message
from bot.slack.blocks.limits import FALLBACK_TEXT, MESSAGE_CHARS, size
from bot.slack.blocks.lists import case_detail, case_list
from bot.slack.blocks.notice import notice
from slack_emulator.blockkit import message_errors
from tests.unit.limits_check import NAMES, TEXTS, assert_message, note_count
from tests.unit.test_blocks_action import ca, ev, full
from tests.unit.test_blocks_kit import T0, delivery, detail, event, feedback_case, row, teams

FEW = settings(max_examples=50, deadline=None)
NOW = T0 + timedelta(days=2)


def texts(msg: dict) -> list[str]:
    """Every section and context text, in order."""
    out = []
    for b in msg["blocks"]:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return out


def counted(msg: dict, item: str, word: str = "more") -> tuple[int, int]:
    """(lines starting with `item`, the n of the message's note)."""
    lines = [line for t in texts(msg) for line in t.split("\n")]
    shown = sum(line.startswith(item) for line in lines)
    # Notes are context lines, or last lines saying "…and n more"; a heading may hold a number too.
    contexts = [e["text"] for b in msg["blocks"] if b["type"] == "context" for e in b["elements"]]
    sections = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    last = [t.split("\n")[-1] for t in sections]
    candidates = contexts + [line for line in last if line.startswith(("…and", "and "))]
    return shown, sum(n for t in candidates if (n := note_count(t, word)) is not None)


@FEW
@given(TEXTS, NAMES, NAMES, st.lists(TEXTS, max_size=10), st.sampled_from(["open", "resolved"]))
def test_the_case_message(
    comment: str, category: str, segment: str, steps: list[str], state: str
) -> None:
    case = feedback_case(state=state, summary={"category": category, "segment": segment})
    events = [event("opened", "loopbot", 0)]
    if state == "resolved":
        whys = [comment] * 5
        details = dict(outcome="fixed", root_cause=category, action=comment, rationale=comment)
        events.append(event("resolved", "U0AGENT1", 9, 2, whys=whys, corrective=comment, **details))
    team = delivery().model_copy(update={"name": segment})
    msg = case_message(detail(case, events, comment), team, now=NOW, playbook=steps)
    assert_message(msg)
    assert msg["blocks"][-1]["type"] == "actions"  # the buttons always stay


@FEW
@given(st.integers(0, 300), TEXTS)
def test_the_timeline_keeps_the_latest_and_counts_the_rest(n: int, note: str) -> None:
    notes = [event("note", "U0AGENT1", i + 1, i + 2, text=f"{note}") for i in range(n)]
    events = [event("opened", "loopbot", 0), *notes]
    msg = case_detail(detail(feedback_case(), events, note), delivery(), now=NOW)
    assert_message(msg)
    lines = [line for t in texts(msg) for line in t.split("\n")]
    shown = sum(line.startswith((":memo:", ":new: Opened")) for line in lines)
    left_out = sum(n for t in texts(msg) if (n := note_count(t, "earlier event")))
    assert shown + left_out == len(events)
    if left_out:
        assert any(line.startswith(":memo:") for line in lines)  # the newest stay


@FEW
@given(st.integers(0, 400), st.integers(0, 2_000), NAMES, NAMES)
def test_a_case_list(n: int, more: int, category: str, name: str) -> None:
    rows = [row(i, summary={"metric": "csat", "score": 1, "category": category}) for i in range(n)]
    all_teams = {**teams(), "delivery": teams()["delivery"].model_copy(update={"name": name})}
    msg = case_list(CaseList(rows, n + more), title=name, teams=all_teams, now=NOW)
    assert_message(msg)
    if n:
        shown, left_out = counted(msg, "• *FB-")
        assert shown + left_out == n + more and shown > 0


@FEW
@given(st.integers(11, 500), NAMES)
def test_an_alert_storm(n: int, category: str) -> None:
    rows = [row(i, summary={"metric": "nps", "score": 0, "category": category}) for i in range(n)]
    msg = group_message(rows, delivery(), now=NOW)
    assert_message(msg)
    shown, left_out = counted(msg, "• *FB-")
    assert shown + left_out == n and shown > 0


@FEW
@given(TEXTS, NAMES, st.integers(0, 300))
def test_escalations_name_every_leader_they_can(name: str, category: str, leaders: int) -> None:
    case = feedback_case(summary={"category": category})
    details = {"level": "ack_leaders", "sla": "15m", "deadline": T0.isoformat()}
    people = [f"U{i:09d}" for i in range(leaders)]
    team = delivery().model_copy(update={"name": name})
    msg = leaders_message(case, team, details, leaders=people, now=NOW)
    assert_message(msg)
    # A mention is never cut in half: each shows whole or not at all.
    assert all(re.fullmatch(r"U\d{9}", m) for t in texts(msg) for m in re.findall(r"<@([^>]*)>", t))


@FEW
@given(TEXTS, NAMES, st.integers(0, 120), st.integers(0, 60))
def test_a_corrective_action_its_timeline_and_its_overdue_posts(
    text: str, cause: str, n_events: int, n_cases: int
) -> None:
    action = ca(text=text, cause=cause, domain=cause, state="dropped")
    events = [ev("planned", "U0SUPER1", 0, due=action.due_at.isoformat(), owner="U0AGENT1")]
    events += [
        ev("done", "U0AGENT1", 1 + i / 100, 2 + i, live=text, text=text) for i in range(n_events)
    ]
    events.append(ev("dropped", "U0AGENT1", 3, 999, reason=text))
    d = full(action, events, cases=n_cases)
    assert_message(action_message(d, delivery(), now=NOW))
    shown_detail = action_detail(d, delivery(), now=NOW)
    assert_message(shown_detail)
    lines = [line for t in texts(shown_detail) for line in t.split("\n")]
    timeline = (":spiral_note_pad: Planned", ":rocket: Done", ":no_entry_sign: Dropped by")
    shown = sum(line.startswith(timeline) for line in lines)
    left_out = sum(n for t in texts(shown_detail) if (n := note_count(t, "earlier event")))
    assert shown + left_out == len(events)
    for level in ("owner", "leaders"):
        assert_message(overdue_message(action, delivery(), level=level, now=NOW))


@FEW
@given(st.integers(1, 600), TEXTS, NAMES)
def test_an_action_list(n: int, text: str, cause: str) -> None:
    actions = [
        ca(id=i, text=text, cause=cause, team="delivery" if i % 2 else "support") for i in range(n)
    ]
    msg = action_list(actions, title=cause, teams=teams(), now=NOW)
    assert_message(msg)
    shown, left_out = counted(msg, "• *CA-")
    assert shown + left_out == n and shown > 0


@FEW
@given(st.integers(1, 2_000), TEXTS)
def test_a_notice_of_any_length(n: int, line: str) -> None:
    # The help is the longest notice: a few hundred lines of up to a few hundred characters.
    text = "\n".join(f"{i} {line[:300]}".replace("\n", " ") for i in range(n))
    msg = notice(text)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert size(msg["blocks"]) <= MESSAGE_CHARS and len(msg["text"]) <= FALLBACK_TEXT
    lines = [
        x for b in msg["blocks"] if b["type"] == "section" for x in b["text"]["text"].split("\n")
    ]
    shown = sum(bool(re.match(r"\d+", x)) for x in lines)
    left_out = sum(n for t in texts(msg) if (n := note_count(t, "more line")))
    assert shown + left_out == len(text.split("\n"))
