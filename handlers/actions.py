"""Buttons: Acknowledge, Assign to me, Resolve… and Reopen… on case messages, the cause picked in the resolve
modal, Reopen action on a fix that did not verify; list and show buttons elsewhere."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.cases.model import CaseRecord
from bot.cases.permissions import Action
from bot.clock import utcnow
from bot.slack.app import SlackServices, guarded
from bot.slack.blocks.action import action_detail
from bot.slack.blocks.lists import case_detail, case_list
from bot.slack.blocks.modals import reopen_modal
from bot.slack.blocks.notice import notice_view
from bot.slack.ids import ActionId, ActionMeta, BlockId, CaseMeta
from bot.slack.resolve_form import resolve_view

SOURCE = "button"


def register(app: App, svc: SlackServices) -> None:
    @app.action(ActionId.ACK)
    @guarded
    def acknowledge(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        meta = CaseMeta.load(action.get("value"))
        svc.cases.acknowledge(meta.case_id, actor=body["user"]["id"], source=SOURCE)
        svc.notify()  # the message updates in place through the outbox; nothing else to say

    @app.action(ActionId.ASSIGN_ME)
    @guarded
    def assign_me(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        svc.cases.assign(
            CaseMeta.load(action.get("value")).case_id, user, actor=user, source=SOURCE
        )
        svc.notify()

    @app.action(ActionId.RESOLVE)
    @guarded
    def open_resolve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        case, meta = _checked(svc, body, action, Action.RESOLVE)
        client.views_open(trigger_id=body["trigger_id"], view=resolve_view(svc, case, meta))

    @app.action(BlockId.ROOT_CAUSE)
    @guarded
    def cause_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """A cause picked in the resolve modal: show its playbook, verified fixes and open actions. Inputs
        keep what was typed (same block ids); the hash makes a stale update fail rather than overwrite."""
        ack()
        view = body["view"]
        meta = CaseMeta.load(view.get("private_metadata"))
        case = svc.cases.get(meta.case_id).case
        cause = (action.get("selected_option") or {}).get("value")
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=resolve_view(svc, case, meta, cause=cause),
        )

    @app.action(ActionId.ACTION_REOPEN)
    @guarded
    def reopen_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        meta = ActionMeta.load(action.get("value"))
        svc.cases.actions.reopen(meta.action_id, actor=body["user"]["id"], source=SOURCE)
        svc.notify()

    @app.action(ActionId.ACTION_SHOW)
    @guarded
    def show_action(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        detail = svc.cases.actions.get(ActionMeta.load(action.get("value")).action_id)
        message = action_detail(detail, svc.config.teams[detail.action.team], now=utcnow())
        view = notice_view(detail.action.ref, message["text"]) | {"blocks": message["blocks"][:100]}
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(ActionId.REOPEN)
    @guarded
    def open_reopen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        case, meta = _checked(svc, body, action, Action.REOPEN)
        client.views_open(trigger_id=body["trigger_id"], view=reopen_modal(case, meta=meta))

    @app.action(ActionId.LIST_OPEN)
    @guarded
    def list_open(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        team = svc.overview.team(str(action.get("value") or ""))
        result = svc.overview.list_cases(team=team.key, filter="open", user=body["user"]["id"])
        reply = case_list(
            result,
            title=f"Open cases of {team.name}",
            teams=svc.config.teams,
            now=utcnow(),
            empty=f"No open cases for {team.name}. :tada:",
            command=svc.command,
        )
        respond(**reply, response_type="ephemeral", replace_original=False)

    @app.action(ActionId.SHOW)
    @guarded
    def show(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        # Checked again though the list was: a button's value is whatever the request says.
        user = body["user"]["id"]
        detail = svc.cases.get_for(CaseMeta.load(action.get("value")).case_id, user, Action.SEE)
        svc.audit.case_shown(user, detail.case)
        message = case_detail(detail, svc.config.teams[detail.case.team], now=utcnow())
        # The App Home has no channel to answer in: the case opens in a modal.
        view = notice_view(detail.case.ref, message["text"]) | {"blocks": message["blocks"][:100]}
        client.views_open(trigger_id=body["trigger_id"], view=view)


def _checked(
    svc: SlackServices, body: dict[str, Any], action: dict[str, Any], act: Action
) -> tuple[CaseRecord, CaseMeta]:
    """The button's case, if the person may `act` on it now: checked before a modal opens, so a frontline
    agent is told at once; and the metadata the modal carries back."""
    detail = svc.cases.get_for(CaseMeta.load(action.get("value")).case_id, body["user"]["id"], act)
    return detail.case, CaseMeta(case_id=detail.case.id, channel=_channel(body))


def _channel(body: dict[str, Any]) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
