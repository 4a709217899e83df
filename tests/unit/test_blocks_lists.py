"""`list` and `show` answers: a line per case, the "more" note, empty states, the timeline within 50 blocks."""

from __future__ import annotations

from datetime import timedelta

from bot.reports.queries import CaseList
from bot.slack.blocks.case import case_message
from bot.slack.blocks.lists import case_detail, case_list
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    delivery,
    detail,
    event,
    feedback_case,
    no_foreign_markup,
    row,
    teams,
)

NOW = T0 + timedelta(hours=2, minutes=5)


def test_case_list_lines() -> None:
    rows = [
        row(12, assignee="U0AGENT1"),
        row(
            13,
            team="support",
            state="acknowledged",
            severity="medium",
            acknowledged_at=T0,
            summary={"metric": "nps", "score": 4, "category": None},
        ),
        row(
            14,
            state="acknowledged",
            acknowledged_at=T0 + timedelta(minutes=5),
            opened_at=NOW - timedelta(minutes=30),
            ack_due=NOW,
            resolve_due=NOW + timedelta(days=1),
        ),
    ]
    msg = case_list(CaseList(rows, 3), title="Open cases", teams=teams(), now=NOW)
    assert_message(msg)
    assert msg["text"] == "Open cases: 3 cases"
    assert msg["blocks"][0]["text"]["text"] == "*Open cases*"
    assert msg["blocks"][1]["text"]["text"].split("\n") == [
        "• *FB-12* :red_circle: CSAT 1/5 · late_delivery · Delivery Ops · open 2h 5m · <@U0AGENT1> · :warning: *overdue*",
        "• *FB-13* :large_orange_circle: NPS 4/10 · Support · acknowledged 2h 5m",
        "• *FB-14* :red_circle: CSAT 1/5 · late_delivery · Delivery Ops · acknowledged 30m",
    ]
    assert len(msg["blocks"]) == 2


def test_case_list_says_how_many_more() -> None:
    msg = case_list(
        CaseList([row(i) for i in range(20)], 57),
        title="Open cases for Delivery Ops",
        teams=teams(),
        now=NOW,
    )
    assert_message(msg)
    assert msg["blocks"][-1]["elements"][0]["text"] == (
        "37 more, not shown (20 of 57). Narrow the list with `/feedback list TEAM overdue`, "
        "or open one case with `/feedback show FB-n`."
    )


def test_case_list_empty_state() -> None:
    msg = case_list(
        CaseList([], 0),
        title="Open cases for Delivery Ops",
        teams=teams(),
        now=NOW,
        empty="No open cases for Delivery Ops. :tada:",
    )
    assert_message(msg)
    assert msg["blocks"] == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Open cases for Delivery Ops*\nNo open cases for Delivery Ops. :tada:",
            },
        }
    ]
    assert msg["text"] == "No open cases for Delivery Ops. :tada:"


def test_case_list_escapes_names_and_survives_an_unconfigured_team() -> None:
    rows = [row(1, team="gone", summary={"metric": "csat", "score": 2, "category": ATTACK})]
    msg = case_list(CaseList(rows, 1), title=f"Cases {ATTACK}", teams=teams(), now=NOW)
    assert_message(msg)
    no_foreign_markup(msg)
    assert "· gone ·" in msg["blocks"][1]["text"]["text"]


def test_a_long_case_list_stays_within_50_blocks() -> None:
    heavy = {"metric": "csat", "score": 1, "category": "&" * 200}
    msg = case_list(
        CaseList([row(i, summary=heavy) for i in range(500)], 900),
        title="All",
        teams=teams(),
        now=NOW,
    )
    assert_message(msg)
    shown = sum(b["text"]["text"].count("• *FB-") for b in msg["blocks"][1:-1])
    assert msg["blocks"][-1]["elements"][0]["text"].startswith(
        f"{900 - shown} more, not shown ({shown} of 900)."
    )


def test_case_detail_is_the_message_without_buttons_plus_the_timeline() -> None:
    events = [
        event("opened", "loopbot", 0, 1),
        event("acknowledged", "U0AGENT1", 4, 2),
        event("note", "U0AGENT1", 9, 3, text="Called <!channel>"),
    ]
    d = detail(feedback_case(state="acknowledged"), events)
    msg = case_detail(d, delivery(), now=NOW)
    assert_message(msg)
    assert not any(b["type"] == "actions" for b in msg["blocks"])
    base = case_message(d, delivery(), now=NOW)["blocks"][:-1]  # all but the buttons
    assert msg["blocks"][: len(base)] == base
    assert msg["blocks"][len(base) :] == [
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Timeline*"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    ":new: Opened by Loopbot at Mon 2 Dec 09:11 EST\n"
                    ":eyes: Acknowledged by <@U0AGENT1> at Mon 2 Dec 09:15 EST (TTA 4m)\n"
                    ":memo: Note from <@U0AGENT1> at Mon 2 Dec 09:20 EST: Called &lt;!channel&gt;"
                ),
            },
        },
    ]
    no_foreign_markup(msg)


def test_a_long_timeline_keeps_the_latest_events() -> None:
    notes = [event("note", "U0AGENT1", i, i, text=f"note {i} " + "&" * 2000) for i in range(1, 201)]
    d = detail(
        feedback_case(state="resolved"),
        [
            event("opened", "loopbot", 0, 0),
            *notes,
            event(
                "resolved", "U0SUPER1", 300, 999, outcome="fixed", root_cause="other", action="Done"
            ),
        ],
    )
    msg = case_detail(d, delivery(), now=NOW)
    assert_message(msg)
    texts = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert texts[-1].split("\n")[-1].startswith(":white_check_mark: Resolved by <@U0SUPER1>")
    shown = sum(t.count(":memo:") for t in texts)
    notice = next(
        b["elements"][0]["text"]
        for b in msg["blocks"]
        if b["type"] == "context" and "not shown" in b["elements"][0]["text"]
    )
    assert notice == f"{201 - shown} earlier events not shown."
    assert "note 200 " in texts[-1]
    assert "note 1 " not in "".join(texts)
