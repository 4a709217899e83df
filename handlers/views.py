"""Modal submissions: Resolve and Reopen; a mistake is shown under its field, a refusal replaces the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.cases.action_model import NewAction
from bot.errors import InvalidInput, UserFacingError
from bot.slack.app import SlackServices, guarded
from bot.slack.blocks.notice import error_text, notice_view
from bot.slack.ids import BlockId, CallbackId, CaseMeta

SOURCE = "modal"


def register(app: App, svc: SlackServices) -> None:
    @app.view(CallbackId.RESOLVE)
    @guarded
    def resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        meta = CaseMeta.load(view.get("private_metadata"))
        text, owner, due = (values.get(b) for b in (BlockId.CORRECTIVE, BlockId.OWNER, BlockId.DUE))
        # Any of the three asks for an action; the core says which of them is missing.
        corrective = NewAction(text or "", owner, due) if text or owner or due else None
        _submit(
            ack,
            svc,
            lambda: svc.cases.resolve(
                meta.case_id,
                outcome=values.get(BlockId.OUTCOME) or "",
                root_cause=values.get(BlockId.ROOT_CAUSE) or "",
                action=values.get(BlockId.ACTION) or "",
                rationale=values.get(BlockId.RATIONALE),
                whys=values.get(BlockId.WHYS),
                corrective=corrective,
                attach=values.get(BlockId.ATTACH),
                actor=body["user"]["id"],
                source=SOURCE,
            ),
            "Resolve",
        )

    @app.view(CallbackId.REOPEN)
    @guarded
    def reopen(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = CaseMeta.load(view.get("private_metadata"))
        reason = _values(view).get(BlockId.REASON) or ""
        _submit(
            ack,
            svc,
            lambda: svc.cases.reopen(meta.case_id, reason, actor=body["user"]["id"], source=SOURCE),
            "Reopen",
        )


def _submit(ack: Ack, svc: SlackServices, change: Any, verb: str) -> None:
    # A modal is answered in the ack itself: errors keep it open, anything else closes or replaces it.
    try:
        change()
    except InvalidInput as exc:
        if exc.field in {b.value for b in BlockId}:
            ack(response_action="errors", errors={exc.field: error_text(exc)})
            return
        ack(
            response_action="update",
            view=notice_view(f"{verb} not done", f":warning: {error_text(exc)}"),
        )
        return
    except UserFacingError as exc:
        ack(
            response_action="update",
            view=notice_view(f"{verb} not done", f":warning: {error_text(exc)}"),
        )
        return
    ack()
    svc.notify()


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    """Each input's value by block id, whatever the element type (text input, select, user, date)."""
    out: dict[str, str | None] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for element in actions.values():
            selected = element.get("selected_option")
            out[block_id] = (
                selected.get("value")
                if selected
                else element.get("value")
                or element.get("selected_user")
                or element.get("selected_date")
            )
    return out
