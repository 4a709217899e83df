"""Shared builders and Block Kit checks for the renderer tests, and proof that the checks catch bad payloads."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.cases.model import CaseDetail, CaseRecord, EventRecord
from bot.cases.timings import derive
from bot.reports.queries import CaseRow
from bot.slack.blocks.limits import FALLBACK_TEXT, MESSAGE_CHARS, size
from config.loader import parse_config
from config.teams import LoopbotConfig, Team
from tests.conftest import CONFIG

HAS_BLOCKKIT = importlib.util.find_spec("slack_emulator.blockkit") is not None
# 09:11 EST on Monday 2 December 2024: the delivery team works in America/New_York.
T0 = datetime(2024, 12, 2, 14, 11, tzinfo=UTC)
ATTACK = "<!channel> <@U123> <https://evil.example|click> & jane@…"
ACTORS = ("U0AGENT1", "U0AGENT2", "U0SUPER1", "U0SUPER2", "U0LEADER1")


def config() -> LoopbotConfig:
    return parse_config(CONFIG, "x")


def delivery() -> Team:
    return config().teams["delivery"]


def teams() -> dict[str, Team]:
    return dict(config().teams)


def feedback_case(**kw: Any) -> CaseRecord:
    summary = {
        "metric": "csat",
        "score": 1,
        "category": "late_delivery",
        "segment": "gold",
        "customer": "C-77",
        "submitted_at": (T0 - timedelta(minutes=2)).isoformat(),
    }
    summary.update(kw.pop("summary", {}))
    values: dict[str, Any] = {
        "id": 12,
        "kind": "feedback",
        "team": "delivery",
        "state": "open",
        "version": 1,
        "severity": "high",
        "opened_at": T0,
        "summary": summary,
        "feedback_id": 3,
    }
    values.update(kw)
    return CaseRecord(**values)


def threshold_case(**kw: Any) -> CaseRecord:
    summary = {
        "metric": "csat",
        "value": 72.41,
        "comparison": "below",
        "threshold": 80.0,
        "window": "24h",
        "n": 31,
    }
    summary.update(kw.pop("summary", {}))
    values: dict[str, Any] = {
        "id": 14,
        "kind": "threshold",
        "team": "delivery",
        "state": "open",
        "version": 1,
        "severity": "medium",
        "opened_at": T0,
        "summary": summary,
        "feedback_id": None,
    }
    values.update(kw)
    return CaseRecord(**values)


def event(kind: str, actor: str, minutes: float, event_id: int = 1, **details: Any) -> EventRecord:
    return EventRecord(
        id=event_id,
        case_id=12,
        kind=kind,
        actor=actor,
        source="button",
        at=T0 + timedelta(minutes=minutes),
        details=details,
    )


def detail(
    case: CaseRecord,
    events: list[EventRecord] | None = None,
    comment: str | None = "Parcel arrived late",
) -> CaseDetail:
    events = events if events is not None else [event("opened", "loopbot", 0)]
    timings = derive(case.opened_at, case.state, ((e.kind, e.at) for e in events), delivery().sla)
    return CaseDetail(case, events, comment, timings)


def row(case_id: int, **kw: Any) -> CaseRow:
    values: dict[str, Any] = {
        "id": case_id,
        "kind": "feedback",
        "team": "delivery",
        "state": "open",
        "severity": "high",
        "opened_at": T0,
        "assignee": None,
        "summary": {"metric": "csat", "score": 1, "category": "late_delivery"},
        "acknowledged_at": None,
        "ack_due": T0 + timedelta(minutes=15),
        "resolve_due": T0 + timedelta(days=1),
    }
    values.update(kw)
    return CaseRow(**values)


def texts(payload: Any) -> list[str]:
    """Every "text" string anywhere in a payload (block texts, context elements, button labels, fallback)."""
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(texts(value))
    elif isinstance(payload, list):
        for item in payload:
            found.extend(texts(item))
    return found


def no_foreign_markup(payload: Any) -> None:
    """No Slack control sequence survives except our mentions of known people and our <!date^…>."""
    for text in texts(payload):
        for actor in ACTORS:
            text = text.replace(f"<@{actor}>", "")
        text = re.sub(r"<!date\^\d+\^[^|<>]*\|[^<>]*>", "", text)
        assert "<" not in text, text


def assert_message(msg: dict[str, Any]) -> None:
    assert isinstance(msg["text"], str) and msg["text"]
    assert "\n" not in msg["text"]
    blocks = msg["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        assert parsed.to_dict()["type"] == block["type"]
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    # Slack's total for a message's blocks, as the renderers count it (the emulator allows 13,000).
    assert size(blocks) <= MESSAGE_CHARS, size(blocks)
    assert len(msg["text"]) <= FALLBACK_TEXT
    if HAS_BLOCKKIT:
        from slack_emulator.blockkit import message_errors

        assert message_errors(blocks, msg["text"]) == []


def assert_view(view: dict[str, Any]) -> None:
    assert 0 < len(view["blocks"]) <= 100
    View(**view).to_dict()  # raises on titles over 24 characters, too many blocks, …
    for block in view["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()
    if HAS_BLOCKKIT:
        from slack_emulator.blockkit import view_errors

        assert view_errors(view) == []


def buttons(msg: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    """(label, action_id, style, value) of every button in actions blocks."""
    return [
        (e["text"]["text"], e["action_id"], e.get("style"), e["value"])
        for b in msg["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


# -- the checks themselves must be able to fail ------------------------------------------------------


def test_checks_refuse_an_overlong_section() -> None:
    with pytest.raises(Exception, match="3000"):
        assert_message(
            {
                "text": "x",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            }
        )


def test_checks_refuse_51_blocks_and_unknown_types() -> None:
    with pytest.raises(AssertionError):
        assert_message({"text": "x", "blocks": [{"type": "divider"}] * 51})
    with pytest.raises(AssertionError):
        assert_message({"text": "x", "blocks": [{"type": "sectoin"}]})


def test_checks_refuse_a_long_modal_title() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Resolve FB-1234567890123456"},
        "blocks": [{"type": "divider"}],
    }
    with pytest.raises(Exception, match="24"):
        assert_view(view)


def test_markup_check_spots_a_smuggled_mention() -> None:
    no_foreign_markup({"text": "<@U0AGENT1> acknowledged"})
    with pytest.raises(AssertionError):
        no_foreign_markup({"blocks": [{"text": {"text": "hi <!channel>"}}]})
