"""The corrective-action message per state, its thread lines, its answers, its overdue posts and its App Home section."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.cases.action_model import ActionDetail, ActionEventRecord, ActionRecord, LinkedCase
from bot.slack.blocks.action import (
    action_message,
)
from bot.slack.blocks.action_lines import action_event_line, check_line
from bot.slack.ids import ActionId, ActionMeta
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    buttons,
    delivery,
    no_foreign_markup,
)

VALUE = ActionMeta(action_id=4).dump()
COMPLAINTS = {
    "measure": "late_delivery complaints",
    "kind": "rate",
    "before": 0.081,
    "after": 0.032,
    "n_before": 412,
    "n_after": 398,
    "p": 0.0021,
    "test": "z",
    "result": "verified",
}
CSAT = {
    "measure": "CSAT",
    "kind": "rate",
    "before": 0.72,
    "after": 0.801,
    "n_before": 300,
    "n_after": 310,
    "p": 0.0104,
    "test": "z",
    "result": "verified",
}


def verification(result: str = "verified", *checks: dict[str, Any]) -> dict[str, Any]:
    return {
        "result": result,
        "checks": list(checks) or [COMPLAINTS, CSAT],
        "before": ["2024-11-18", "2024-12-02"],
        "after": ["2024-12-02", "2024-12-16"],
        "min_n": 30,
    }


def ca(**kw: Any) -> ActionRecord:
    values: dict[str, Any] = {
        "id": 4,
        "team": "delivery",
        "cause": "late_delivery",
        "domain": "process",
        "text": "Call the courier before 10:00",
        "owner": "U0AGENT1",
        "state": "planned",
        "version": 1,
        "round": 1,
        "planned_at": T0,
        "due_at": T0 + timedelta(days=7),
    }
    values.update(kw)
    return ActionRecord(**values)


def ev(kind: str, actor: str, days: float, event_id: int = 1, **details: Any) -> ActionEventRecord:
    at = T0 + timedelta(days=days)
    return ActionEventRecord(event_id, 4, kind, actor, "command", at, details)


def full(action: ActionRecord, events: list[ActionEventRecord] | None = None, cases: int = 1):
    planned = ev("planned", "U0SUPER1", 0, due=action.due_at.isoformat(), owner=action.owner)
    return ActionDetail(
        action,
        [planned] if events is None else events,
        [LinkedCase(12 + i, "resolved") for i in range(cases)],
    )


def block_text(block: dict[str, Any]) -> str:
    return block["text"]["text"] if "text" in block else block["elements"][0]["text"]


def msg_texts(msg: dict[str, Any]) -> list[str]:
    return [block_text(b) for b in msg["blocks"] if b["type"] in ("section", "context")]


LIVE = T0 + timedelta(days=3)
CHECKED = T0 + timedelta(days=17)


# -- the action message ----------------------------------------------------------------------------------


def test_planned_action_message_in_full() -> None:
    msg = action_message(full(ca()), delivery(), now=T0 + timedelta(days=1))
    assert_message(msg)
    assert msg["text"] == 'CA-4 · planned · Delivery Ops: "Call the courier before 10:00"'
    assert msg_texts(msg) == [
        ":spiral_note_pad: *CA-4* · Corrective action · Delivery Ops\n"
        "*Cause:* late_delivery · *Domain:* process · *State:* planned",
        "Call the courier before 10:00",
        "Owner: <@U0AGENT1> · Due Mon 9 Dec 09:11 EST",
        "From FB-12",
    ]
    assert [b["type"] for b in msg["blocks"]] == ["section", "section", "context", "context"]
    assert buttons(msg) == []


def test_planned_action_past_its_due_date_is_overdue() -> None:
    msg = action_message(full(ca()), delivery(), now=T0 + timedelta(days=8))
    assert msg_texts(msg)[2] == "Owner: <@U0AGENT1> · Due Mon 9 Dec 09:11 EST :warning: *overdue*"


def test_done_action_says_when_it_went_live_and_is_never_overdue() -> None:
    action = ca(state="done", live_at=LIVE)
    msg = action_message(full(action, cases=0), delivery(), now=T0 + timedelta(days=30))
    assert_message(msg)
    assert msg_texts(msg)[0].endswith("*State:* done, verifying")
    assert msg_texts(msg)[2:] == [
        "Owner: <@U0AGENT1> · Due Mon 9 Dec 09:11 EST · Live since Thu 5 Dec 09:11 EST",
        "Planned without a case",
    ]
    assert msg["text"].startswith("CA-4 · done, verifying · Delivery Ops")


def test_verified_action_shows_each_check_and_no_button() -> None:
    action = ca(state="verified", live_at=LIVE, verified_at=CHECKED, verification=verification())
    msg = action_message(full(action), delivery(), now=CHECKED)
    assert_message(msg)
    assert msg_texts(msg)[0].startswith(":white_check_mark: *CA-4*")
    assert msg_texts(msg)[2].endswith(" · Checked Thu 19 Dec 09:11 EST")
    assert msg_texts(msg)[4] == (
        ":white_check_mark: *Verified*\n"
        "Before 2024-11-18 to 2024-12-01 · after 2024-12-02 to 2024-12-15\n"
        "late_delivery complaints 8.1 % → 3.2 % of responses (n 412 → 398), p = 0.002: verified\n"
        "CSAT 72.0 % → 80.1 % (n 300 → 310), p = 0.010: verified"
    )
    assert buttons(msg) == []


@pytest.mark.parametrize(
    ("state", "head"),
    [("not_verified", ":x: *Not verified*"), ("inconclusive", ":grey_question: *Inconclusive*")],
)
def test_action_that_did_not_verify_offers_reopen(state: str, head: str) -> None:
    action = ca(state=state, live_at=LIVE, verified_at=CHECKED, verification=verification(state))
    msg = action_message(full(action), delivery(), now=CHECKED)
    assert_message(msg)
    assert msg_texts(msg)[4].startswith(head + "\n")
    assert msg["blocks"][-1]["block_id"] == "action_buttons"
    assert buttons(msg) == [("Reopen action", ActionId.ACTION_REOPEN, "danger", VALUE)]


def test_dropped_action_shows_who_dropped_it_and_why() -> None:
    events = [ev("dropped", "U0SUPER1", 2, 2, reason="Courier <changed> & left")]
    msg = action_message(full(ca(state="dropped"), events), delivery(), now=T0 + timedelta(days=9))
    assert_message(msg)
    assert msg_texts(msg)[4] == (
        ":no_entry_sign: *Dropped* by <@U0SUPER1> at Wed 4 Dec 09:11 EST: "
        "Courier &lt;changed&gt; &amp; left"
    )
    assert "overdue" not in " ".join(msg_texts(msg))
    assert buttons(msg) == []


def test_reopened_action_shows_its_round_and_escalations() -> None:
    events = [
        ev("escalated", "loopbot", 8, 2, level="owner", due=(T0 + timedelta(days=7)).isoformat()),
        ev(
            "escalated", "loopbot", 15, 3, level="leaders", due=(T0 + timedelta(days=7)).isoformat()
        ),
    ]
    msg = action_message(full(ca(round=2), events), delivery(), now=T0 + timedelta(days=16))
    assert msg_texts(msg)[0].endswith("*State:* planned (round 2)")
    assert msg_texts(msg)[2].endswith(":warning: *overdue* · :rotating_light: escalated to leaders")


def test_many_cases_are_listed_up_to_20() -> None:
    msg = action_message(full(ca(), cases=25), delivery(), now=T0)
    refs = ", ".join(f"FB-{12 + i}" for i in range(20))
    assert msg_texts(msg)[3] == f"From {refs} and 5 more"


def test_staff_text_cannot_mention_or_link() -> None:
    msg = action_message(full(ca(text=ATTACK)), delivery(), now=T0)
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg_texts(msg)[1] == (
        "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; jane@…"
    )


# -- verification checks ---------------------------------------------------------------------------------


def _check(measure: str, kind: str, before: float, after: float, **kw: Any) -> dict[str, Any]:
    values = {"n_before": 120, "n_after": 130, "p": 0.04, "test": "welch", "result": "verified"}
    return {"measure": measure, "kind": kind, "before": before, "after": after, **values, **kw}


@pytest.mark.parametrize(
    ("check", "line"),
    [
        (
            COMPLAINTS,
            "late_delivery complaints 8.1 % → 3.2 % of responses (n 412 → 398), p = 0.002: verified",
        ),
        (CSAT, "CSAT 72.0 % → 80.1 % (n 300 → 310), p = 0.010: verified"),
        (_check("CES", "mean", 4.1, 3.6), "CES 4.10 → 3.60 (n 120 → 130), p = 0.040: verified"),
        (
            _check("NPS", "nps", 12.4, 25.2, p=0.0004),
            "NPS 12 → 25 (n 120 → 130), p < 0.001: verified",
        ),
        (
            {**COMPLAINTS, "n_before": 12, "p": None, "result": "inconclusive"},
            "late_delivery complaints 8.1 % → 3.2 % of responses (n 12 → 398): "
            "inconclusive (fewer than 30 responses)",
        ),
        (
            {**CSAT, "after": 0.71, "p": 0.41, "result": "not_verified"},
            "CSAT 72.0 % → 71.0 % (n 300 → 310), p = 0.410: not verified",
        ),
        ({**CSAT, "p": None}, "CSAT 72.0 % → 80.1 % (n 300 → 310): verified"),
        ({"measure": "<!here>"}, "&lt;!here&gt; — → — (n — → —): —"),
    ],
)
def test_check_line_per_measure(check: dict[str, Any], line: str) -> None:
    assert check_line(check, 30) == line


# -- thread lines ----------------------------------------------------------------------------------------

DUE = (T0 + timedelta(days=7)).isoformat()


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            ev("planned", "U0SUPER1", 0, due=DUE, owner="U0AGENT1", case="FB-12"),
            ":spiral_note_pad: Planned by <@U0SUPER1> at Mon 2 Dec 09:11 EST: owner <@U0AGENT1>, "
            "due Mon 9 Dec 09:11 EST, from FB-12",
        ),
        (
            ev("attached", "U0SUPER1", 1, case="FB-14"),
            ":link: FB-14 attached by <@U0SUPER1> at Tue 3 Dec 09:11 EST",
        ),
        (
            ev("done", "U0AGENT1", 3, live=LIVE.isoformat(), text="Rota <moved> to 9:30"),
            ":rocket: Done by <@U0AGENT1> at Thu 5 Dec 09:11 EST, live since Thu 5 Dec 09:11 EST: "
            "Rota &lt;moved&gt; to 9:30",
        ),
        (
            ev("dropped", "U0SUPER1", 2, reason="Vendor changed"),
            ":no_entry_sign: Dropped by <@U0SUPER1> at Wed 4 Dec 09:11 EST: Vendor changed",
        ),
        (
            ev("reopened", "U0SUPER1", 18, due=(T0 + timedelta(days=30)).isoformat()),
            ":arrows_counterclockwise: Reopened by <@U0SUPER1> at Fri 20 Dec 09:11 EST, "
            "due Wed 1 Jan 09:11 EST",
        ),
        (
            ev("escalated", "loopbot", 8, level="owner", due=DUE),
            ":rotating_light: Overdue at Tue 10 Dec 09:11 EST: not done by Mon 9 Dec 09:11 EST — "
            "<@U0AGENT1> <@U0SUPER1>",
        ),
        (
            ev("escalated", "loopbot", 15, level="leaders", due=DUE),
            ":rotating_light: Escalated to leaders at Tue 17 Dec 09:11 EST: not done by "
            "Mon 9 Dec 09:11 EST",
        ),
        (
            ev("verification", "loopbot", 17, **verification("not_verified")),
            ":x: *Not verified* — verification by Loopbot at Thu 19 Dec 09:11 EST\n"
            "Before 2024-11-18 to 2024-12-01 · after 2024-12-02 to 2024-12-15\n"
            "late_delivery complaints 8.1 % → 3.2 % of responses (n 412 → 398), p = 0.002: verified\n"
            "CSAT 72.0 % → 80.1 % (n 300 → 310), p = 0.010: verified",
        ),
        (
            ev("retargeted", "U0SUPER1", 1),
            ":small_blue_diamond: Retargeted by <@U0SUPER1> at Tue 3 Dec 09:11 EST",
        ),
    ],
)
def test_action_event_line_per_kind(event: ActionEventRecord, line: str) -> None:
    assert action_event_line(event, ca(), delivery()) == line
    no_foreign_markup({"text": line})


def test_event_lines_with_odd_details_stay_inert() -> None:
    for event in (
        ev("planned", ATTACK, 0, due=ATTACK, owner=ATTACK, case=ATTACK),
        ev("attached", "U0SUPER1", 0, case=ATTACK),
        ev("done", "U0AGENT1", 0, live=ATTACK, text=ATTACK),
        ev("escalated", "loopbot", 0, level=ATTACK, due=ATTACK),
        ev("verification", "loopbot", 0, result=ATTACK, checks=[{"measure": ATTACK}, ATTACK]),
    ):
        no_foreign_markup({"text": action_event_line(event, ca(), delivery())})
