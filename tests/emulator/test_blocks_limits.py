"""Slack's limits on a whole message, in the emulator as Slack applies them: a message whose blocks add
up to more than Slack takes is refused (msg_blocks_too_long), a context text over 2,000 characters is
invalid; and what Loopbot renders from huge data is accepted, through the real outbox worker too."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from slack_sdk.errors import SlackApiError

import bot.slack.blocks.case as case_blocks
from bot.clock import utcnow
from bot.reports.digest import Signal, Verbatim
from bot.reports.queries import CaseList
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.fit import fit
from bot.slack.blocks.limits import MESSAGE_CHARS, size
from bot.slack.blocks.lists import case_detail, case_list
from slack_emulator.blockkit import message_errors
from tests.e2e.test_delivery_posts import make_worker, open_cases
from tests.emulator import section, web
from tests.factories import item
from tests.unit.test_blocks_digest import S, digest
from tests.unit.test_blocks_kit import delivery, detail, event, feedback_case, row, teams
from tests.unit.test_blocks_silence import silence

H = timedelta(hours=1)
HOSTILE = "Parcel <!channel> & 😀 漢字 *late* `code` " * 120  # ~5,000 characters, escapes to more


def refusal(call) -> str:  # noqa: ANN001
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response["error"]


def test_blocks_over_slacks_total_are_refused_whatever_each_holds(emu):
    client = web(emu)
    four, five = [section("x" * 2_900)] * 4, [section("x" * 2_900)] * 5  # each section within 3,000
    assert client.chat_postMessage(channel="C0DELIVERY", text="ok", blocks=four)["ok"]
    error = refusal(lambda: client.chat_postMessage(channel="C0DELIVERY", text="x", blocks=five))
    assert error == "msg_blocks_too_long"
    assert any("msg_blocks_too_long" in e for e in message_errors(five, "x"))
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    answer = httpx.post(url, json={"text": "x", "blocks": five})
    assert answer.json()["error"] == "msg_blocks_too_long"
    assert len(emu.messages("C0DELIVERY")) == 1 and emu.ephemerals() == []


def test_a_context_text_over_2000_characters_is_invalid(emu):
    too_long = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 2_001}]}]
    error = refusal(
        lambda: web(emu).chat_postMessage(channel="C0DELIVERY", text="x", blocks=too_long)
    )
    assert error == "invalid_blocks"


def huge_digest() -> dict:
    summary = {
        "metric": "csat",
        "value": 1.0,
        "comparison": "below",
        "threshold": 80,
        "window": "1d",
    }
    d = digest(
        signals=tuple(Signal(f"FB-{i}", {**summary, "window": HOSTILE[:300]}) for i in range(200)),
        silences=tuple(silence(id=i, reason=HOSTILE, pattern="csat") for i in range(200)),
        lowest=tuple(Verbatim("csat", 1, HOSTILE, S + i * H) for i in range(30)),
        praise=Verbatim("nps", 10, HOSTILE, S),
    )
    team = delivery().model_copy(update={"name": HOSTILE[:300]})
    return digest_message(d, team, now=S + 24 * H)


def test_a_huge_digest_and_a_huge_list_are_accepted(emu, monkeypatch):
    client = web(emu)
    message = huge_digest()
    assert size(message["blocks"]) <= MESSAGE_CHARS
    assert client.chat_postMessage(channel="C0DELIVERY", **message)["ok"]
    [posted] = emu.messages("C0DELIVERY")
    assert "…and " in json.dumps(posted["blocks"], ensure_ascii=False)

    heavy = {"metric": "csat", "score": 1, "category": HOSTILE[:200]}
    listing = case_list(
        CaseList([row(i, summary=heavy) for i in range(500)], 2_000),
        title=HOSTILE,
        teams=teams(),
        now=S,
    )
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    assert httpx.post(url, json={**listing, "response_type": "ephemeral"}).status_code == 200
    [answer] = emu.ephemerals("C0DELIVERY", "U0AGENT1")
    assert "more, not shown" in json.dumps(answer["blocks"])

    # The same timeline unfitted: each section within 3,000, and still refused as a whole.
    notes = [event("note", "U0AGENT1", i + 1, i + 2, text=HOSTILE) for i in range(60)]
    shown = case_detail(detail(feedback_case(), notes, HOSTILE), delivery(), now=S)
    assert client.chat_postMessage(channel="C0DELIVERY", **shown)["ok"]
    monkeypatch.setattr(
        "bot.slack.blocks.lists.fit_message",
        lambda text, parts: {"text": text, "blocks": fit(parts, max_chars=None)},
    )
    unfitted = case_detail(detail(feedback_case(), notes, HOSTILE), delivery(), now=S)
    error = refusal(lambda: client.chat_postMessage(channel="C0DELIVERY", **unfitted))
    assert error == "msg_blocks_too_long"


def test_a_resolved_case_with_every_text_at_its_longest_is_posted_by_the_worker(
    emu, sessions, cases, config, ingestor
):  # noqa: ANN001
    """Through the outbox, as in production: the case message with a 500-character verbatim and a
    resolution whose action, rationale and whys are all as long as the core allows."""
    worker = make_worker(emu, sessions, cases, config)
    try:
        [ref] = open_cases(ingestor, item(score=1, comment="& <late> 😀" * 50))
        # Under the core's 3,000 characters; emoji count twice in Slack's (JavaScript) lengths.
        longest = "😀" * 2_999
        cases.resolve(
            ref,
            outcome="fixed",
            root_cause="late_delivery",
            action=longest,
            rationale=longest,
            whys=["😀" * 300] * 5,
            actor="U0SUPER1",
            source="command",
            now=utcnow(),
        )
        worker.deliver_due()
        [message] = emu.messages("C0DELIVERY")
        assert "Resolved" in json.dumps(message["blocks"])  # accepted: the update went through
        assert worker.failed_kinds == []  # type: ignore[attr-defined]
        assert worker.deliveries.counts().get("failed", 0) == 0
        team, now = config.teams["delivery"], utcnow()
        assert (
            size(case_blocks.case_message(cases.get(ref), team, now=now)["blocks"]) <= MESSAGE_CHARS
        )
        # Not fitted to a message's total, the same case would be refused: the cut lets it through.
        whole = case_blocks.case_blocks(cases.get(ref), team, now=now)
        assert size(fit(whole, max_chars=None)) > 13_000
    finally:
        worker.stop()
