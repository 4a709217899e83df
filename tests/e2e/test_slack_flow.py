"""The whole Slack flow end to end: `loopbot run` as a process, the emulator as Slack, over HTTP and Socket Mode."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.harness import Bot, database_url, running_bot
from tests.factories import item

AGENT, SUPER, LEADER = "U0AGENT1", "U0SUPER1", "U0LEADER1"
CH = "C0DELIVERY"


@pytest.fixture(
    params=[
        ("sqlite", "http"),
        ("sqlite", "socket"),
        ("postgresql", "http"),
        ("postgresql", "socket"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def bot(request, tmp_path, emu) -> Iterator[Bot]:  # noqa: ANN001
    db, mode = request.param
    with (
        database_url(db, tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=mode == "socket", emu=emu) as b,
    ):
        yield b


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def shown(message: dict) -> str:
    return json.dumps(message.get("blocks", []))


def latest(bot: Bot, ts: str) -> dict:
    return bot.emu.message(CH, ts)


def wait_shows(bot: Bot, ts: str, text: str) -> dict:
    return bot.emu.wait_for(
        lambda: text in shown(latest(bot, ts)) and latest(bot, ts),
        timeout=15,
        message=f"message never showed {text!r}: {bot.emu.summary()}",
    )


def ephemeral_for(bot: Bot, user: str, text: str) -> dict:
    return bot.emu.wait_for(
        lambda: next((m for m in bot.emu.ephemerals(CH, user) if text in json.dumps(m)), None),
        timeout=10,
        message=f"no ephemeral with {text!r} for {user}: {bot.emu.ephemerals(CH, user)}",
    )


def test_feedback_to_case_to_acknowledge_resolve_reopen_and_modal_resolve(bot):
    result = bot.ingest(item(score=1, comment="The parcel was late again"))
    [ref] = result["cases"]
    message = bot.case_message(ref)
    ts = message["ts"]
    assert buttons(message) == ["case_ack", "case_resolve", "case_assign_me"]
    assert "The parcel was late again" in shown(message) and "late_delivery" in shown(message)

    # Acknowledge: the message changes in place and the thread gets one line.
    assert bot.emu.click(CH, ts, "case_ack", AGENT).ok
    acked = wait_shows(bot, ts, "Acknowledged by <@U0AGENT1>")
    assert "TTA" in shown(acked) and buttons(acked) == ["case_resolve", "case_assign_me"]
    bot.emu.wait_for(lambda: len(bot.emu.replies(CH, ts)) == 1, timeout=10)
    assert "Acknowledged by <@U0AGENT1>" in bot.emu.replies(CH, ts)[0]["text"]

    # Resolve by command, with cause, outcome and the action text.
    bot.emu.slash_command(
        f"resolve {ref} cause=late_delivery outcome=fixed Refunded and re-routed the courier",
        SUPER,
        CH,
    )
    ephemeral_for(bot, SUPER, "resolved")
    resolved = wait_shows(bot, ts, "Refunded and re-routed the courier")
    assert "TTR" in shown(resolved) and buttons(resolved) == ["case_reopen"]

    # Reopen with a reason.
    bot.emu.slash_command(f"reopen {ref} customer called again", SUPER, CH)
    reopened = wait_shows(bot, ts, "customer called again")
    assert "case_resolve" in buttons(reopened)

    # Resolve through the modal: a missing rationale is shown under its field, then it goes through.
    assert bot.emu.click(CH, ts, "case_resolve", SUPER).ok
    view = bot.emu.wait_for(lambda: next(iter(bot.emu.open_views(SUPER)), None), timeout=10)
    first = bot.emu.submit_view(
        view["id"],
        SUPER,
        {
            "outcome": {"outcome": "no_action"},
            "root_cause": {"root_cause": "late_delivery"},
            "action": {"action": "Explained the delay"},
        },
    )
    assert first.response["response_action"] == "errors" and "rationale" in first.response["errors"]
    assert not first.problems
    second = bot.emu.submit_view(
        view["id"],
        SUPER,
        {
            "outcome": {"outcome": "no_action"},
            "root_cause": {"root_cause": "late_delivery"},
            "action": {"action": "Explained the delay"},
            "rationale": {"rationale": "Courier strike, nothing to fix"},
        },
    )
    assert second.ok and not second.problems and bot.emu.open_views(SUPER) == []
    wait_shows(bot, ts, "Courier strike, nothing to fix")
    lines = bot.emu.wait_for(
        lambda: len(bot.emu.replies(CH, ts)) == 4 and bot.emu.replies(CH, ts), timeout=10
    )
    assert [
        ("Acknowledged" in r["text"], "Resolved" in r["text"], "Reopened" in r["text"])
        for r in lines
    ] == [(True, False, False), (False, True, False), (False, False, True), (False, True, False)]
    # Every payload the bot sent passed the emulator's Block Kit validation.
    assert [c for c in bot.emu.calls if c.error == "invalid_blocks"] == []
    # SIGTERM: in-flight work finishes, the process stops cleanly.
    assert bot.stop() == 0 and "Loopbot stopped" in bot.output()


@pytest.fixture
def socket_bot(tmp_path, emu) -> Iterator[Bot]:  # noqa: ANN001
    with (
        database_url("sqlite", tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=True, emu=emu) as b,
    ):
        yield b


def test_socket_mode_reconnects_after_slack_asks_it_to_and_keeps_working(socket_bot):
    bot = socket_bot
    [ref] = bot.ingest(item(score=2))["cases"]
    ts = bot.case_message(ref)["ts"]
    bot.emu.socket_disconnect()
    assert bot.emu.wait_socket(timeout=30, connections=2)
    assert bot.emu.click(CH, ts, "case_ack", AGENT).ok
    wait_shows(bot, ts, "Acknowledged by <@U0AGENT1>")
    # The HTTP server keeps serving the API and health beside the WebSocket.
    assert bot.ingest(item(score=5))["accepted"] == 1
