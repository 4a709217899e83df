"""The resolve and reopen modals: ids, options, preselection, metadata and Slack's limits."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.modals import reopen_modal, resolve_modal
from bot.slack.ids import BlockId, CallbackId, CaseMeta
from tests.unit.test_blocks_kit import assert_view, config, feedback_case

CAUSES = [*config().categories, "other"]
META = CaseMeta(case_id=12, channel="C0DELIVERY")


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_resolve_modal_shape() -> None:
    view = resolve_modal(feedback_case(), causes=CAUSES, meta=META)
    assert_view(view)
    assert view["type"] == "modal"
    assert view["callback_id"] == CallbackId.RESOLVE == "case_resolve_modal"
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Resolve FB-12",
        "Resolve",
        "Cancel",
    )
    assert CaseMeta.load(view["private_metadata"]) == META
    inputs = _inputs(view)
    assert list(inputs) == [
        BlockId.OUTCOME,
        BlockId.ROOT_CAUSE,
        BlockId.ACTION,
        BlockId.RATIONALE,
        BlockId.WHYS,
        BlockId.CORRECTIVE,
        BlockId.OWNER,
        BlockId.DUE,
    ]
    # Each input's action_id is its block id: a core InvalidInput.field names both.
    assert all(block["element"]["action_id"] == block_id for block_id, block in inputs.items())
    outcome = inputs["outcome"]["element"]
    assert [(o["value"], o["text"]["text"]) for o in outcome["options"]] == [
        ("fixed", "Fixed"),
        ("workaround", "Workaround"),
        ("no_action", "No action"),
        ("duplicate", "Duplicate"),
    ]
    assert "initial_option" not in outcome
    cause = inputs["root_cause"]["element"]
    assert [(o["value"], o["text"]["text"]) for o in cause["options"]] == [
        ("late_delivery", "Late delivery"),
        ("rude_staff", "Rude staff"),
        ("app_error", "App error"),
        ("other", "Other"),
    ]
    action = inputs["action"]
    assert action["label"]["text"] == "What was done for the customer"
    assert action["element"]["multiline"] is True and action["element"]["max_length"] == 3000
    assert "optional" not in action
    rationale = inputs["rationale"]
    assert rationale["optional"] is True
    assert rationale["hint"]["text"] == "Why this outcome; required when the outcome is No action"
    # Choosing a cause tells Loopbot at once, so the modal can show that cause's playbook and fixes.
    assert inputs["root_cause"]["dispatch_action"] is True
    assert [inputs[b].get("optional") for b in ("whys", "corrective", "owner", "due")] == [True] * 4
    assert inputs["owner"]["element"]["type"] == "users_select"
    assert inputs["due"]["element"]["type"] == "datepicker"
    assert inputs["corrective"]["element"]["multiline"] is False
    # Nothing to attach to and nothing known of the cause: no attach select, no guidance line.
    assert "attach" not in inputs
    assert not any("Playbook" in str(b) for b in view["blocks"])
    assert view["blocks"][0]["elements"][0]["text"] == "*FB-12* · CSAT 1/5"


def test_resolve_modal_preselects_what_the_command_gave() -> None:
    view = resolve_modal(
        feedback_case(), causes=CAUSES, meta=META, cause="rude_staff", outcome="no_action"
    )
    assert_view(view)
    inputs = _inputs(view)
    assert inputs["outcome"]["element"]["initial_option"] == {
        "text": {"type": "plain_text", "text": "No action", "emoji": True},
        "value": "no_action",
    }
    assert inputs["root_cause"]["element"]["initial_option"]["value"] == "rude_staff"


def test_unknown_preselection_is_ignored_not_sent_to_slack() -> None:
    view = resolve_modal(
        feedback_case(), causes=CAUSES, meta=META, cause="weather", outcome="shrug"
    )
    assert_view(view)
    inputs = _inputs(view)
    assert "initial_option" not in inputs["outcome"]["element"]
    assert "initial_option" not in inputs["root_cause"]["element"]


def test_long_ids_long_labels_and_many_causes_stay_within_limits() -> None:
    causes = [f"cause_{i}_" + "x" * 90 for i in range(150)] + ["other"]
    view = resolve_modal(
        feedback_case(id=123456789012345678),
        causes=causes,
        meta=CaseMeta(case_id=123456789012345678),
    )
    assert_view(view)
    assert view["title"]["text"] == "Resolve case"
    element = _inputs(view)["root_cause"]["element"]
    options = [o for group in element["option_groups"] for o in group["options"]]
    assert [o["value"] for o in options] == causes
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert all(len(group["options"]) <= 100 for group in element["option_groups"])


def test_reopen_modal() -> None:
    case = feedback_case(state="resolved")
    view = reopen_modal(case, meta=META)
    assert_view(view)
    assert (view["callback_id"], view["title"]["text"], view["submit"]["text"]) == (
        "case_reopen_modal",
        "Reopen FB-12",
        "Reopen",
    )
    assert CaseMeta.load(view["private_metadata"]) == META
    inputs = _inputs(view)
    assert list(inputs) == ["reason"]
    assert inputs["reason"]["element"]["action_id"] == "reason"
    assert inputs["reason"]["element"]["multiline"] is True
    assert "optional" not in inputs["reason"]


def test_resolve_modal_shows_the_causes_playbook_fixes_and_open_actions() -> None:
    from datetime import UTC, datetime

    from bot.cases.action_model import ActionRecord

    at = datetime(2026, 3, 2, tzinfo=UTC)
    open_action = ActionRecord(
        id=4, team="delivery", cause="late_delivery", domain="process", text="Cap routes <30>",
        owner="U0OWNER1", state="planned", version=1, round=1, planned_at=at, due_at=at,
    )  # fmt: skip
    view = resolve_modal(
        feedback_case(),
        causes=CAUSES,
        meta=META,
        cause="late_delivery",
        playbook=["Refund the delivery fee", "Call the courier"],
        suggestions=["Add a second courier shift"],
        open_actions=[open_action],
    )
    assert_view(view)
    blocks = view["blocks"]
    ids = [b.get("block_id") for b in blocks]
    guidance = blocks[ids.index("action") + 1]["elements"][0]["text"]
    assert guidance == (
        "*Playbook:* Refund the delivery fee · Call the courier\n"
        "*Verified fixes for this cause:* Add a second courier shift"
    )
    attach = _inputs(view)["attach"]
    assert attach["optional"] is True
    assert attach["element"]["options"] == [
        {
            "text": {
                "type": "plain_text",
                "text": "CA-4 · Late delivery · Cap routes <30>",
                "emoji": True,
            },
            "value": "CA-4",
        }
    ]
