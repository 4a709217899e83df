"""Corrective-action answers (`actions`, `action CA-n`), overdue posts, App Home, and Slack's limits under huge input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cases.action_model import ActionDetail, LinkedCase
from bot.slack.blocks.action import (
    action_detail,
    action_list,
    action_message,
    my_actions_blocks,
    overdue_message,
)
from bot.slack.blocks.action_lines import action_event_line
from bot.slack.ids import ActionId, ActionMeta
from tests.unit.test_blocks_action import (
    CHECKED,
    COMPLAINTS,
    DUE,
    LIVE,
    ca,
    ev,
    full,
    msg_texts,
    verification,
)
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    assert_view,
    buttons,
    delivery,
    no_foreign_markup,
    teams,
)

# -- answers ---------------------------------------------------------------------------------------------


def test_action_list_names_teams_only_when_there_are_several() -> None:
    now = T0 + timedelta(days=8)
    mine = [ca(), ca(id=5, state="done", live_at=LIVE, text="Second\nline " + "x" * 200)]
    msg = action_list(mine, title="Open actions for Delivery Ops", teams=teams(), now=now, empty="")
    assert_message(msg)
    assert msg["text"] == "Open actions for Delivery Ops: 2 corrective actions"
    assert msg_texts(msg) == [
        "*Open actions for Delivery Ops*",
        "• *CA-4* :spiral_note_pad: planned · late_delivery · Call the courier before 10:00 · "
        "<@U0AGENT1> · due Mon 9 Dec 09:11 EST :warning: *overdue*\n"
        f"• *CA-5* :rocket: done, verifying · late_delivery · Second line {'x' * 67}… · "
        "<@U0AGENT1> · live since Thu 5 Dec 09:11 EST",
    ]
    both = action_list(
        [*mine, ca(id=6, team="support")], title="All", teams=teams(), now=now, empty=""
    )
    lines = msg_texts(both)[1].split("\n")
    assert " · Delivery Ops · late_delivery · " in lines[0]
    # Support works in UTC: its due date is shown in its own zone.
    assert " · Support · " in lines[2] and lines[2].endswith(
        "due Mon 9 Dec 14:11 UTC :warning: *overdue*"
    )


def test_empty_action_list_says_so() -> None:
    msg = action_list(
        [], title="Open actions", teams=teams(), now=T0, empty="No open corrective actions <yet>."
    )
    assert_message(msg)
    assert msg == {
        "text": "No open corrective actions &lt;yet&gt;.",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Open actions*\nNo open corrective actions &lt;yet&gt;.",
                },
            }
        ],
    }


def test_action_list_of_thousands_stays_within_50_blocks() -> None:
    many = [ca(id=i, text="&" * 3000, cause="c" * 80) for i in range(1, 2001)]
    msg = action_list(many, title="x" * 500, teams=teams(), now=T0, empty="")
    assert_message(msg)
    # Slack's ~13k total, not its 50 blocks, is what stops these long lines.
    assert len(msg["blocks"]) <= 50
    shown = sum(b["text"]["text"].count("• *CA-") for b in msg["blocks"][1:-1])
    more = msg["blocks"][-1]["elements"][0]["text"]
    assert more.startswith(f"{2000 - shown} more, not shown ({shown} of 2000).")
    assert more.endswith(
        "Narrow the list with `/feedback actions TEAM overdue`, or open one with "
        "`/feedback action CA-n`."
    )


def test_action_detail_adds_the_timeline() -> None:
    events = [
        ev("planned", "U0SUPER1", 0, due=DUE, owner="U0AGENT1", case="FB-12"),
        ev("done", "U0AGENT1", 3, 2, live=LIVE.isoformat(), text="Rota moved"),
    ]
    action = ca(state="done", live_at=LIVE)
    msg = action_detail(full(action, events), delivery(), now=T0 + timedelta(days=4))
    assert_message(msg)
    assert buttons(msg) == []
    assert msg_texts(msg)[-2:] == [
        "*Timeline*",
        ":spiral_note_pad: Planned by <@U0SUPER1> at Mon 2 Dec 09:11 EST: owner <@U0AGENT1>, "
        "due Mon 9 Dec 09:11 EST, from FB-12\n"
        ":rocket: Done by <@U0AGENT1> at Thu 5 Dec 09:11 EST, live since Thu 5 Dec 09:11 EST: "
        "Rota moved",
    ]
    assert msg["text"] == action_message(full(action, events), delivery(), now=T0)["text"]
    empty = action_detail(full(action, []), delivery(), now=T0)
    assert msg_texts(empty)[-1] == "No events yet."


def _huge_detail(n_events: int, n_cases: int, text: str, state: str) -> ActionDetail:
    check = {**COMPLAINTS, "measure": text[:200]}
    action = ca(
        text=text,
        state=state,
        cause=text[:80],
        domain=text[:80],
        live_at=LIVE,
        verified_at=CHECKED,
        verification=verification(state, *[check] * 30),
    )
    kinds = [
        {"kind": "done", "live": text, "text": text},
        {"kind": "dropped", "reason": text},
        {"kind": "verification", **verification(state, *[check] * 30)},
        {"kind": "attached", "case": text},
    ]
    events = [
        ev(
            str(kinds[i % 4]["kind"]),
            "U0SUPER1",
            i / 100,
            i,
            **{k: v for k, v in kinds[i % 4].items() if k != "kind"},
        )
        for i in range(n_events)
    ]
    return ActionDetail(action, events, [LinkedCase(i, "open") for i in range(1, n_cases + 1)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_events=st.integers(0, 400),
    n_cases=st.integers(0, 300),
    text=st.sampled_from(["&<" * 1500, "x" * 3000, ATTACK * 40, "é\n" * 1500]),
    state=st.sampled_from(
        ["planned", "done", "verified", "not_verified", "inconclusive", "dropped"]
    ),
)
def test_huge_actions_stay_within_slacks_limits(
    n_events: int, n_cases: int, text: str, state: str
) -> None:
    detail = _huge_detail(n_events, n_cases, text, state)
    team = delivery()
    for msg in (
        action_message(detail, team, now=T0),
        action_detail(detail, team, now=T0),
        overdue_message(detail.action, team, level="owner", now=T0, command=text),
        overdue_message(detail.action, team, level="leaders", now=T0, command=text),
        action_list([detail.action] * 200, title=text, teams=teams(), now=T0, empty=text),
    ):
        assert_message(msg)
        no_foreign_markup(msg)
        assert all(len(t) <= 3000 for t in msg_texts(msg))
    for event in detail.events:
        assert len(action_event_line(event, detail.action, team)) <= 3000
    blocks = my_actions_blocks([detail.action] * 30, teams(), now=T0, command=text)
    assert_view({"type": "home", "blocks": blocks})


# -- overdue posts ---------------------------------------------------------------------------------------


def test_owner_escalation_asks_for_done_or_a_new_date() -> None:
    msg = overdue_message(ca(), delivery(), level="owner", now=T0 + timedelta(days=8, hours=3))
    assert_message(msg)
    assert msg_texts(msg) == [
        ":alarm_clock: <@U0AGENT1> <@U0SUPER1>: CA-4 was due Mon 9 Dec 09:11 EST: "
        "mark it done with `/feedback done CA-4 …` or plan a new date.",
        "Delivery Ops · overdue 1d 3h · *Cause:* late_delivery · Call the courier before 10:00",
    ]
    assert msg["text"] == "CA-4 was due Mon 9 Dec 09:11 EST: mark it done or plan a new date"


def test_owner_who_supervises_is_mentioned_once() -> None:
    msg = overdue_message(ca(owner="U0SUPER1"), delivery(), level="owner", now=T0, command="/fb")
    assert msg_texts(msg)[0].startswith(":alarm_clock: <@U0SUPER1>: CA-4 was due")
    assert "`/fb done CA-4 …`" in msg_texts(msg)[0]


def test_leaders_escalation_says_how_long_overdue_and_who_owns_it() -> None:
    msg = overdue_message(ca(), delivery(), level="leaders", now=T0 + timedelta(days=14))
    assert_message(msg)
    assert msg_texts(msg) == [
        ":rotating_light: *Overdue corrective action:* *CA-4* · Delivery Ops · overdue 7d\n"
        "*Cause:* late_delivery · Call the courier before 10:00",
        "Owner: <@U0AGENT1> · due Mon 9 Dec 09:11 EST · planned Mon 2 Dec 09:11 EST",
        "`/feedback action CA-4` for its timeline",
    ]
    assert msg["text"] == "Overdue corrective action CA-4 (Delivery Ops), 7d past its due date"


def test_unknown_escalation_level_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown escalation level"):
        overdue_message(ca(), delivery(), level="ack", now=T0)


# -- App Home --------------------------------------------------------------------------------------------


def test_my_actions_show_due_dates_and_a_show_button() -> None:
    now = T0 + timedelta(days=8)
    blocks = my_actions_blocks([ca(), ca(id=5, due_at=T0 + timedelta(days=9))], teams(), now=now)
    assert_view({"type": "home", "blocks": blocks})
    assert blocks[0]["text"]["text"] == "Your corrective actions"
    assert [b["text"]["text"] for b in blocks[1:]] == [
        "• *CA-4* :spiral_note_pad: planned · late_delivery · Call the courier before 10:00 · "
        "due Mon 9 Dec 09:11 EST :warning: *overdue*",
        "• *CA-5* :spiral_note_pad: planned · late_delivery · Call the courier before 10:00 · "
        "due Wed 11 Dec 09:11 EST",
    ]
    assert blocks[1]["accessory"]["action_id"] == ActionId.ACTION_SHOW
    assert ActionMeta.load(blocks[2]["accessory"]["value"]).action_id == 5


def test_my_actions_stop_at_10_and_point_to_the_full_list() -> None:
    blocks = my_actions_blocks([ca(id=i) for i in range(1, 13)], teams(), now=T0, command="/fb")
    assert len(blocks) == 12
    assert blocks[-1]["elements"][0]["text"] == "and 2 more — `/fb actions all`"


def test_my_actions_empty_state() -> None:
    blocks = my_actions_blocks([], teams(), now=T0)
    assert_view({"type": "home", "blocks": blocks})
    assert blocks[1]["text"]["text"].startswith("No corrective actions are yours.")
