"""The /feedback slash command: parse, one core call, render, answer in the ack (ephemeral)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack import grammar, parsed
from bot.slack.app import SlackServices, guarded
from handlers.commands import actions, cases, reports, signals
from handlers.commands.context import Context, Reply


def register(app: App, svc: SlackServices) -> None:
    @app.command(svc.command)
    @guarded
    def feedback(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ctx = Context(
            svc,
            client,
            ack,
            user=command["user_id"],
            channel=command["channel_id"],
            trigger_id=command.get("trigger_id"),
        )
        parsed = grammar.parse(command.get("text", ""), svc.command)
        reply = HANDLERS[type(parsed)](ctx, parsed)
        # The answer rides on the ack itself (Slack shows it to the person only): one round trip, no
        # response_url call. Every handler is a few milliseconds of database work, far inside Slack's 3 s.
        if ack.response is None:
            ack(**(reply or {}), response_type="ephemeral")


HANDLERS: dict[type, Callable[[Context, Any], Reply]] = {
    parsed.Help: cases.show_help,
    parsed.Usage: cases.show_usage,
    parsed.ListCases: cases.list_cases,
    parsed.Show: cases.show,
    parsed.Ack: cases.ack,
    parsed.Assign: cases.assign,
    parsed.Note: cases.note,
    parsed.Resolve: cases.resolve,
    parsed.Reopen: cases.reopen,
    parsed.Digest: reports.digest,
    parsed.Chart: reports.chart,
    parsed.Stats: reports.stats,
    parsed.ListActions: actions.actions,
    parsed.ShowAction: actions.action,
    parsed.Plan: actions.plan,
    parsed.Done: actions.done,
    parsed.Drop: actions.drop,
    parsed.Silence: signals.silence,
    parsed.ListSilences: signals.silences,
    parsed.Unsilence: signals.unsilence,
    parsed.CustomerView: signals.customer,
}
