"""The resolve and reopen modals: inputs whose block ids are the core's field names."""

from __future__ import annotations

from typing import Any

from bot.cases.action_model import MAX_WHYS, ActionRecord
from bot.cases.checks import MAX_TEXT, OUTCOMES
from bot.cases.model import CaseRecord
from bot.slack.blocks.describe import OUTCOME_LABELS, case_what
from bot.slack.blocks.fit import fit_view
from bot.slack.blocks.text import cut, escape, truncate
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
    *,
    optional: bool = False,
    dispatch: bool = False,
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
    return _input(block_id, label, element, optional=optional, dispatch=dispatch)


def _input(
    block_id: BlockId,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    dispatch: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": str(block_id),
        "label": _plain(label),
        "element": element,
    }
    if optional:
        block["optional"] = True
    if dispatch:
        # Choosing an option tells the app at once (block_actions), so it can update the modal.
        block["dispatch_action"] = True
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(
    block_id: BlockId,
    label: str,
    *,
    placeholder: str,
    optional: bool = False,
    hint: str | None = None,
    multiline: bool = True,
) -> dict[str, Any]:
    element = {
        "type": "plain_text_input",
        "action_id": str(block_id),
        "multiline": multiline,
        "max_length": TEXT_LIMIT,
        "placeholder": _plain(placeholder),
    }
    return _input(block_id, label, element, optional=optional, hint=hint)


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
    view = {
        "type": "modal",
        "callback_id": str(callback_id),
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": meta.dump(),
    }
    return fit_view(view, blocks)


def resolve_modal(
    case: CaseRecord,
    *,
    causes: list[str],
    meta: CaseMeta,
    cause: str | None = None,
    outcome: str | None = None,
    playbook: list[str] | None = None,
    suggestions: list[str] | None = None,
    open_actions: list[ActionRecord] | None = None,
) -> dict[str, Any]:
    """`causes`: the configured categories plus "other"; `cause`/`outcome` preselect (from `resolve cause=…`,
    or the case's category). For the chosen cause: its `playbook` lines and the `suggestions` (corrective
    actions most often verified) under the action field, and the team's `open_actions` to attach to."""
    outcomes = [_option(o, OUTCOME_LABELS.get(o, o)) for o in OUTCOMES]
    # A key longer than an option value may hold cannot be offered here; the command still takes it.
    cause_options = [_option(c, cause_label(c)) for c in causes if 0 < len(c) <= OPTION_VALUE_LIMIT]
    cause_options = cause_options or [
        _option("other", "Other")
    ]  # Slack refuses a select without options
    blocks = [
        _about(case),
        _select(BlockId.OUTCOME, "Outcome", outcomes, outcome, "Choose an outcome"),
        _select(
            BlockId.ROOT_CAUSE,
            "Root cause",
            cause_options,
            cause,
            "Choose a root cause",
            dispatch=True,
        ),
        _text_input(
            BlockId.ACTION,
            "What was done for the customer",
            placeholder="e.g. called the customer back and refunded the delivery fee",
        ),
        *_guidance(playbook or [], suggestions or []),
        _text_input(
            BlockId.RATIONALE,
            "Rationale",
            optional=True,
            hint="Why this outcome; required when the outcome is No action",
            placeholder="Why this is the right outcome",
        ),
        _text_input(
            BlockId.WHYS,
            "Why did it happen?",
            optional=True,
            hint=f"Up to {MAX_WHYS} whys, one per line: why did it happen, why did that happen…",
            placeholder="The courier missed the slot\nThe route had 40 stops",
        ),
        {"type": "divider"},
        _context("*Corrective action* (optional): what changes so this does not happen again."),
        _text_input(
            BlockId.CORRECTIVE,
            "Corrective action",
            optional=True,
            multiline=False,
            placeholder="e.g. cap courier routes at 30 stops",
        ),
        _input(
            BlockId.OWNER,
            "Owner",
            {"type": "users_select", "action_id": str(BlockId.OWNER), "placeholder": _plain("Who")},
            optional=True,
        ),
        _input(
            BlockId.DUE,
            "Due date",
            {"type": "datepicker", "action_id": str(BlockId.DUE), "placeholder": _plain("When")},
            optional=True,
        ),
    ]
    attach = [
        _option(a.ref, f"{a.ref} · {cause_label(a.cause)} · {a.text}")
        for a in (open_actions or [])[:MAX_OPTIONS]
    ]
    if attach:
        blocks.append(
            _select(
                BlockId.ATTACH,
                "…or attach the case to an open action",
                attach,
                None,
                "Choose an open corrective action",
                optional=True,
            )
        )
    return _modal(CallbackId.RESOLVE, _title("Resolve", case), "Resolve", meta, blocks)


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _guidance(playbook: list[str], suggestions: list[str]) -> list[dict[str, Any]]:
    """The cause's playbook and its verified fixes, under the action field (staff text: escaped)."""
    lines = []
    if playbook:
        lines.append("*Playbook:* " + " · ".join(escape(truncate(p, 200)) for p in playbook))
    if suggestions:
        lines.append(
            "*Verified fixes for this cause:* "
            + " · ".join(escape(truncate(s, 200)) for s in suggestions)
        )
    # A context text holds 2,000 characters; cut whole, so no escaped "&amp;" is left half.
    return [_context(cut("\n".join(lines), 2_000))] if lines else []


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
