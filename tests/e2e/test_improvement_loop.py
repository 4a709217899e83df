"""The improvement loop end to end (SPEC §8): `loopbot run` against the emulator; a supervisor resolves with whys
and a corrective action in the modal, the action gets its message, is escalated when overdue, marked done, and
verified when its after window closes (improved / unchanged / too few responses); a customer's third case says
it repeats, and five resolutions of one cause open one systemic case. Time-driven steps run the product's own
jobs at a chosen moment against the same database; the running bot delivers what they queue."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.alerts.action_escalations import ActionEscalations
from bot.cases.verification import Verifier
from config.loader import parse_config
from storage.db import make_engine, make_sessions
from storage.models import CorrectiveAction
from tests.conftest import CONFIG
from tests.e2e.harness import Bot, database_url, running_bot
from tests.factories import item

CH, LEADERS = "C0DELIVERY", "C0LEADERS"
SUPER, OWNER, LEADER = "U0SUPER1", "U0AGENT2", "U0LEADER1"
NEW_YORK = ZoneInfo("America/New_York")
LOOP_CONFIG = copy.deepcopy(CONFIG)
LOOP_CONFIG["categories"]["late_delivery"]["playbook"] = ["Refund the delivery fee"]
LOOP_CONFIG["categories"]["late_delivery"]["owner"] = LEADER


@pytest.fixture(params=["sqlite", "postgresql"])
def bot(request, tmp_path, emu) -> Iterator[Bot]:  # noqa: ANN001
    with (
        database_url(request.param, tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu, config_data=LOOP_CONFIG) as running,
    ):
        engine = make_engine(url)
        running.sessions = make_sessions(engine)  # type: ignore[attr-defined]
        running.config = parse_config(LOOP_CONFIG, "test")  # type: ignore[attr-defined]
        yield running
        engine.dispose()


def shown(message: dict | None) -> str:
    return json.dumps(message or {}, ensure_ascii=False)


def posted(bot: Bot, channel: str, text: str, timeout: float = 20) -> dict:
    return bot.emu.wait_for(
        lambda: next((m for m in bot.emu.messages(channel) if text in shown(m)), None),
        timeout=timeout,
        message=f"nothing with {text!r} in {channel}: {bot.emu.summary()}",
    )


def in_thread(bot: Bot, channel: str, ts: str, text: str, timeout: float = 20) -> dict:
    return bot.emu.wait_for(
        lambda: next((r for r in bot.emu.replies(channel, ts) if text in shown(r)), None),
        timeout=timeout,
        message=f"no reply with {text!r}: {bot.emu.replies(channel, ts)}",
    )


def answer(bot: Bot, text: str, user: str = SUPER) -> str:
    delivery = bot.emu.slash_command(text, user, CH)
    assert delivery.ok, delivery
    return shown(delivery.response)


def day(offset: int) -> date:
    return datetime.now(NEW_YORK).date() + timedelta(days=offset)


def at(local_day: date, hour: int) -> str:
    return datetime(
        local_day.year, local_day.month, local_day.day, hour, tzinfo=NEW_YORK
    ).isoformat()


def seed(bot: Bot, first: date, n: int, comments: dict[str, int]) -> None:
    """`n` responses over the 14 local days from `first`, with so many of each complaint comment."""
    words = [c for c, k in comments.items() for _ in range(k)]
    items = [
        item(
            submitted_at=at(first + timedelta(days=i % 14), 8 + i % 10),
            score=4,
            comment=words[i] if i < len(words) else "fine",
        )
        for i in range(n)
    ]
    result = bot.ingest(*items)
    assert result["accepted"] == n and result["cases"] == []  # old feedback opens no case


def back_to(bot: Bot, action_id: int, *, due: timedelta, planned: timedelta) -> None:
    """Move an action's planning and due date to these offsets from now, as if time had passed."""
    now = datetime.now(UTC)
    with bot.sessions.begin() as s:  # type: ignore[attr-defined]
        s.execute(
            update(CorrectiveAction)
            .where(CorrectiveAction.id == action_id)
            .values(due_at=now + due, planned_at=now + planned)
        )


def test_resolve_with_a_corrective_action_escalate_done_and_verify(bot):
    [ref] = bot.ingest(item(score=1, comment="The parcel was late again", customer="C-9"))["cases"]
    case = bot.case_message(ref)
    assert "Refund the delivery fee" in shown(case)  # the category's playbook on the case message

    # The modal: whys and a corrective action with owner and due date; the cause preselected.
    assert bot.emu.click(CH, case["ts"], "case_resolve", SUPER).ok
    view = bot.emu.wait_for(lambda: next(iter(bot.emu.open_views(SUPER)), None), timeout=10)
    assert "Refund the delivery fee" in shown(view)
    # Picking another cause updates the modal: its playbook goes, what was typed stays.
    typed = {"action": {"action": "Refunded the fee"}}
    assert bot.emu.select_in_view(view["id"], "root_cause", "rude_staff", SUPER, values=typed).ok
    bot.emu.wait_for(
        lambda: "Refund the delivery fee" not in shown(bot.emu.views.get(view["id"])), timeout=10
    )
    assert "Refunded the fee" in shown(bot.emu.views.get(view["id"])["state"])
    due = day(7).isoformat()
    values = {
        "outcome": {"outcome": "fixed"},
        "root_cause": {"root_cause": "late_delivery"},
        "action": {"action": "Refunded the fee"},
        "whys": {"whys": "The courier missed the slot\nThe route had 40 stops"},
        "corrective": {"corrective": "Cap routes at 30 stops"},
        "owner": {"owner": OWNER},
        "due": {"due": day(-1).isoformat()},
    }
    refused = bot.emu.submit_view(view["id"], SUPER, values)
    assert refused.response["response_action"] == "errors" and "due" in refused.response["errors"]
    done = bot.emu.submit_view(view["id"], SUPER, {**values, "due": {"due": due}})
    assert done.ok and not done.problems
    message = posted(bot, CH, "Cap routes at 30 stops")
    ca = next(w for w in shown(message).replace('"', " ").split() if w.startswith("CA-"))
    ca = ca.rstrip("*·,.")
    assert f"<@{OWNER}>" in shown(message) and ref in shown(message)
    resolved = bot.emu.wait_for(lambda: "Corrective action" in shown(bot.emu.message(CH, case["ts"])) and bot.emu.message(CH, case["ts"]), timeout=15)  # fmt: skip
    assert "The route had 40 stops" in shown(resolved) and ca in shown(resolved)

    # Overdue: time passes (the action's dates move back; posts are queued at the real now, so the
    # running bot delivers them). The owner's DM and a thread line, once; then the leaders, once.
    action_id = int(ca.split("-")[1])
    back_to(bot, action_id, due=timedelta(minutes=-1), planned=timedelta(days=-3))
    job = ActionEscalations(bot.sessions, bot.config)  # type: ignore[attr-defined]
    assert job.run(datetime.now(UTC)) == [(ca, "owner")]
    assert job.run(datetime.now(UTC)) == []
    posted(bot, "D" + OWNER[1:], ca)
    in_thread(bot, CH, message["ts"], "Overdue at")
    # Twice the time between planning and due date: 2 × due − planned = 2 minutes ago.
    back_to(
        bot, action_id, due=timedelta(days=-1, minutes=-2), planned=timedelta(days=-2, minutes=-2)
    )
    assert job.run(datetime.now(UTC)) == [(ca, "leaders")]
    posted(bot, LEADERS, ca)

    # Done: once; a second time is told who did it first.
    live = day(-15)
    assert "is done" in answer(bot, f"done {ca} live={live.isoformat()} routes capped", OWNER)
    assert "already done" in answer(bot, f"done {ca} again")
    in_thread(bot, CH, message["ts"], "routes capped")

    # Before: 20 of 100 late; after: 2 of 100 — verified once the after window closed.
    seed(bot, live - timedelta(days=14), 100, {"It came late": 20})
    seed(bot, live, 100, {"It came late": 2})
    verifier = Verifier(bot.sessions, bot.config)  # type: ignore[attr-defined]
    assert verifier.run(datetime.now(UTC)) == [(ca, "verified")]
    line = in_thread(bot, CH, message["ts"], "late_delivery complaints 20.0 % → 2.0 %")
    assert "(n 100 → 100)" in shown(line) and "verified" in shown(line)
    assert "verified" in shown(bot.emu.message(CH, message["ts"]))
    detail = answer(bot, f"action {ca}")
    assert "20.0 % → 2.0 %" in detail


def test_fixes_that_did_not_change_anything_or_lack_responses_are_told_so(bot):
    live = day(-15)
    refs = []
    for cause in ("rude_staff", "app_error"):
        text = answer(
            bot, f"plan delivery cause={cause} due={day(3).isoformat()} <@{OWNER}> fix {cause}"
        )
        refs.append(text.split(":clipboard: ")[1].split()[0])
    unchanged, few = refs
    assert "is done" in answer(bot, f"done {unchanged} live={live.isoformat()} trained staff")
    # Too few responses around this one's live day: its windows hold nothing.
    assert "is done" in answer(bot, f"done {few} live={day(-60).isoformat()} patched the app")
    seed(bot, live - timedelta(days=14), 60, {"The driver was rude": 6})
    seed(bot, live, 60, {"The driver was rude": 6})
    # No clock moved here: the running bot's own every-minute job verifies both within a minute.
    not_verified = posted(bot, CH, "fix rude_staff")
    in_thread(bot, CH, not_verified["ts"], "Not verified", timeout=90)
    bot.emu.wait_for(
        lambda: "action_reopen" in shown(bot.emu.message(CH, not_verified["ts"])), timeout=15
    )
    # Reopen action: back to planned, once.
    assert bot.emu.click(CH, not_verified["ts"], "action_reopen", SUPER).ok
    in_thread(bot, CH, not_verified["ts"], "Reopened")
    inconclusive = posted(bot, CH, "fix app_error")
    in_thread(bot, CH, inconclusive["ts"], "fewer than 30 responses", timeout=90)
    listed = answer(bot, "actions delivery all")
    assert unchanged in listed and few in listed
    assert "There is no corrective action CA-999" in answer(bot, "action CA-999")
    assert "in the past" in answer(bot, "plan delivery cause=rude_staff due=2020-01-01 me x")


def test_a_customers_third_case_repeats_and_five_resolutions_turn_systemic(bot):
    refs = []
    for i in range(3):
        refs += bot.ingest(item(score=1, comment=f"late #{i}", customer="C-42"))["cases"]
    third = bot.case_message(refs[2])
    assert f"Repeat: 3rd case for this customer in 30 days ({refs[0]}, {refs[1]})" in shown(third)
    more = bot.ingest(*[item(score=1, comment="late again") for _ in range(2)])["cases"]
    for ref in [*refs, *more]:
        bot.case_message(ref)
        assert "resolved" in answer(
            bot, f"resolve {ref} cause=late_delivery outcome=fixed refunded"
        )
    systemic = posted(bot, LEADERS, "Systemic")
    assert "resolved 5 times in 30 days" in shown(systemic) and f"<@{LEADER}>" in shown(systemic)
    answer(bot, f"plan delivery cause=late_delivery due={day(10).isoformat()} me cap routes")
    bot.emu.wait_for(
        lambda: "Corrective action CA-" in shown(bot.emu.message(LEADERS, systemic["ts"])),
        timeout=15,
    )
    assert len([m for m in bot.emu.messages(LEADERS) if "Systemic" in shown(m)]) == 1
