"""The resolve and reopen modals: inputs whose block ids are the core's field names."""

from __future__ import annotations

from typing import Any

from bot.cases.checks import MAX_TEXT, OUTCOMES
from bot.cases.model import CaseRecord
from bot.slack.blocks.describe import OUTCOME_LABELS, case_what
from bot.slack.blocks.text import truncate
from bot.slack.ids import BlockId, CallbackId, CaseMeta

TITLE_LIMIT = 24  # Slack: a modal title holds at most 24 characters
OPTION_TEXT_LIMIT = 75  # Slack: an option's text holds at most 75 characters
OPTION_VALUE_LIMIT = 150  # and its value at most 150
MAX_OPTIONS = 100  # Slack: a static_select holds at most 100 options (or 100 groups of 100)
TEXT_LIMIT = MAX_TEXT  # the core refuses longer texts; Slack then says so before submitting


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _title(verb: str, case: CaseRecord) -> str:
    title = f"{verb} {case.ref}"
    return title if len(title) <= TITLE_LIMIT else f"{verb} case"


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(truncate(text, OPTION_TEXT_LIMIT)), "value": value}


def cause_label(key: str) -> str:
    """late_delivery → Late delivery; "other" stays Other."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _select(
    block_id: BlockId,
    label: str,
    options: list[dict[str, Any]],
    initial: str | None,
    placeholder: str,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": str(block_id),
        "placeholder": _plain(placeholder),
    }
    if len(options) <= MAX_OPTIONS:
        element["options"] = options
    else:
        element["option_groups"] = [
            {
                "label": _plain(f"{i + 1}–{min(i + MAX_OPTIONS, len(options))}"),
                "options": options[i : i + MAX_OPTIONS],
            }
            for i in range(0, len(options), MAX_OPTIONS)
        ]
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": str(block_id), "label": _plain(label), "element": element}


def _text_input(
    block_id: BlockId,
    label: str,
    *,
    placeholder: str,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": str(block_id),
        "label": _plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": str(block_id),
            "multiline": True,
            "max_length": TEXT_LIMIT,
            "placeholder": _plain(placeholder),
        },
    }
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = _plain(hint)
    return block


def _about(case: CaseRecord) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": f"*{case.ref}* · {case_what(case.kind, case.summary or {})}"}
        ],
    }


def _modal(
    callback_id: CallbackId, title: str, submit: str, meta: CaseMeta, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": str(callback_id),
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": meta.dump(),
        "blocks": blocks,
    }


def resolve_modal(
    case: CaseRecord,
    *,
    causes: list[str],
    meta: CaseMeta,
    cause: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """`causes`: the configured categories plus "other"; `cause`/`outcome` preselect (from `resolve cause=…`)."""
    outcomes = [_option(o, OUTCOME_LABELS.get(o, o)) for o in OUTCOMES]
    # A key longer than an option value may hold cannot be offered here; the command still takes it.
    cause_options = [_option(c, cause_label(c)) for c in causes if 0 < len(c) <= OPTION_VALUE_LIMIT]
    cause_options = cause_options or [
        _option("other", "Other")
    ]  # Slack refuses a select without options
    blocks = [
        _about(case),
        _select(BlockId.OUTCOME, "Outcome", outcomes, outcome, "Choose an outcome"),
        _select(BlockId.ROOT_CAUSE, "Root cause", cause_options, cause, "Choose a root cause"),
        _text_input(
            BlockId.ACTION,
            "What was done for the customer",
            placeholder="e.g. called the customer back and refunded the delivery fee",
        ),
        _text_input(
            BlockId.RATIONALE,
            "Rationale",
            optional=True,
            hint="Required when the outcome is No action",
            placeholder="Why nothing more is done",
        ),
    ]
    return _modal(CallbackId.RESOLVE, _title("Resolve", case), "Resolve", meta, blocks)


def reopen_modal(case: CaseRecord, *, meta: CaseMeta) -> dict[str, Any]:
    blocks = [
        _about(case),
        _text_input(
            BlockId.REASON,
            "Why is it reopened?",
            placeholder="e.g. the customer wrote again: still no refund",
        ),
    ]
    return _modal(CallbackId.REOPEN, _title("Reopen", case), "Reopen", meta, blocks)
