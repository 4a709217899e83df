"""The /feedback slash command: parse, one core call, render, answer in the ack (ephemeral)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.cases.permissions import Action, report_scope
from bot.charts.request import ChartRequest
from bot.clock import utcnow
from bot.errors import InvalidInput
from bot.slack import grammar, parsed
from bot.slack.app import SlackServices, guarded
from bot.slack.blocks.action import action_detail, action_list
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.lists import case_detail, case_list
from bot.slack.blocks.notice import notice
from bot.slack.blocks.stats import stats_message
from bot.slack.ids import CaseMeta
from bot.slack.resolve_form import resolve_view
from config.teams import Team

Reply = dict[str, Any] | None
SOURCE = "command"


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


class Context:
    def __init__(
        self,
        svc: SlackServices,
        client: WebClient,
        ack: Ack,
        *,
        user: str,
        channel: str,
        trigger_id: str | None,
    ):
        self.svc, self.client, self.ack = svc, client, ack
        self.user, self.channel, self.trigger_id = user, channel, trigger_id

    def channel_team(self) -> str | None:
        team = self.svc.config.team_for_channel(self.channel)
        return team.key if team else None

    def changed(self, text: str) -> Reply:
        self.svc.notify()
        return notice(text)


def _help(ctx: Context, _cmd: parsed.Help) -> Reply:
    return notice(grammar.usage(ctx.svc.command))


def _usage(_ctx: Context, cmd: parsed.Usage) -> Reply:
    return notice(f":warning: {cmd.message}")


def _list(ctx: Context, cmd: parsed.ListCases) -> Reply:
    team = cmd.team or ctx.channel_team()
    result = ctx.svc.overview.list_cases(team=team, filter=cmd.filter, user=ctx.user)
    where = ctx.svc.overview.team(team).name if team else "all teams"
    title = {
        "open": f"Open cases of {where}",
        "overdue": f"Overdue cases of {where}",
        "mine": f"Your cases in {where}",
        "all": f"All cases of {where}",
    }[cmd.filter]
    empty = {
        "open": f"No open cases for {where}. :tada:",
        "overdue": f"Nothing overdue for {where}. :tada:",
        "mine": f"No cases of {where} are assigned to you.",
        "all": f"No cases for {where} yet.",
    }[cmd.filter]
    return case_list(
        result,
        title=title,
        teams=ctx.svc.config.teams,
        now=utcnow(),
        empty=empty,
        command=ctx.svc.command,
    )


def _show(ctx: Context, cmd: parsed.Show) -> Reply:
    detail = ctx.svc.cases.get(cmd.case_id)
    return case_detail(detail, ctx.svc.config.teams[detail.case.team], now=utcnow())


def _ack(ctx: Context, cmd: parsed.Ack) -> Reply:
    change = ctx.svc.cases.acknowledge(cmd.case_id, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":eyes: {change.case.ref} acknowledged.")


def _assign(ctx: Context, cmd: parsed.Assign) -> Reply:
    assignee = ctx.user if cmd.user == "me" else cmd.user
    change = ctx.svc.cases.assign(cmd.case_id, assignee, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":bust_in_silhouette: {change.case.ref} assigned to <@{assignee}>.")


def _note(ctx: Context, cmd: parsed.Note) -> Reply:
    change = ctx.svc.cases.note(cmd.case_id, cmd.text, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":memo: Note added to {change.case.ref}.")


def _resolve(ctx: Context, cmd: parsed.Resolve) -> Reply:
    if cmd.action is None or cmd.cause is None or cmd.outcome is None:
        # Anything missing is asked for in the modal, with what was typed already filled in.
        detail = ctx.svc.cases.get_for(cmd.case_id, ctx.user, Action.RESOLVE)
        if not ctx.trigger_id:
            raise InvalidInput(
                "Write the whole resolution, e.g. `resolve FB-12 cause=late_delivery outcome=fixed Refunded`."
            )
        meta = CaseMeta(case_id=detail.case.id, channel=ctx.channel)
        view = resolve_view(ctx.svc, detail.case, meta, cause=cmd.cause, outcome=cmd.outcome)
        # An empty answer, sent when this listener returns (process_before_response): after views.open,
        # so Slack's 3 s cover that call too; a trigger_id must be used within 3 s anyway.
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)
        return None
    change = ctx.svc.cases.resolve_in_one_line(
        cmd.case_id,
        outcome=cmd.outcome,
        root_cause=cmd.cause,
        text=cmd.action,
        attach=cmd.attach,
        actor=ctx.user,
        source=SOURCE,
    )
    attached = change.event.details.get("corrective")
    also = f", attached to {attached}" if attached else ""
    return ctx.changed(f":white_check_mark: {change.case.ref} resolved{also}.")


def _reopen(ctx: Context, cmd: parsed.Reopen) -> Reply:
    change = ctx.svc.cases.reopen(cmd.case_id, cmd.reason, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":arrows_counterclockwise: {change.case.ref} reopened.")


def _digest(ctx: Context, cmd: parsed.Digest) -> Reply:
    key = cmd.team or ctx.channel_team()
    if key is None:
        teams = ", ".join(f"`{k}`" for k in ctx.svc.config.teams)
        raise InvalidInput(
            f"This channel belongs to no team: name one, e.g. `{ctx.svc.command} digest "
            f"{next(iter(ctx.svc.config.teams))}` (teams: {teams})."
        )
    team = ctx.svc.digests.team(key)
    now = utcnow()
    return digest_message(ctx.svc.digests.for_team(team.key, now), team, now=now)


def _stats(ctx: Context, cmd: parsed.Stats) -> Reply:
    teams, all_teams = _scope(ctx, cmd.team, Action.STATS)
    now = utcnow()
    found = ctx.svc.stats.for_teams(
        [t.key for t in teams], now - timedelta(days=cmd.period.days), now, now
    )
    return stats_message(
        found,
        ctx.svc.config.teams,
        period_label=f"last {cmd.period.text}",
        all_teams=all_teams,
        command=ctx.svc.command,
    )


def _chart(ctx: Context, cmd: parsed.Chart) -> Reply:
    teams, all_teams = _scope(ctx, cmd.team, Action.CHART)
    req = ChartRequest(
        kind=cmd.kind,
        teams=tuple(t.key for t in teams),
        all_teams=all_teams,
        days=cmd.period.days,
        period=cmd.period.text,
        user=ctx.user,
        until=utcnow(),
    )
    # Queued, not drawn here: the answer goes back in the ack, and the chart worker posts the image in a few seconds.
    ctx.svc.charts.request(
        req, channel=ctx.channel, key=f"chart:{ctx.trigger_id}" if ctx.trigger_id else None
    )
    ctx.svc.draw()
    where = "all teams" if all_teams else ", ".join(t.name for t in teams)
    return notice(
        f":bar_chart: Drawing the {cmd.kind} chart for {where}, last {cmd.period.text}: "
        "it will appear in this channel in a few seconds."
    )


def _actions(ctx: Context, cmd: parsed.ListActions) -> Reply:
    if cmd.team == parsed.ALL_TEAMS:
        keys, where = None, "all teams"
    else:
        key = cmd.team or ctx.channel_team()
        keys = [ctx.svc.overview.team(key).key] if key else None
        where = ctx.svc.config.teams[key].name if key else "all teams"
    found = ctx.svc.cases.actions.listed(keys, cmd.filter, utcnow())
    title = {
        "open": f"Open corrective actions of {where}",
        "overdue": f"Overdue corrective actions of {where}",
        "all": f"Corrective actions of {where}",
    }[cmd.filter]
    empty = {
        "open": f"No open corrective actions for {where}. `{ctx.svc.command} plan` starts one.",
        "overdue": f"No corrective action of {where} is overdue. :tada:",
        "all": f"No corrective actions for {where} yet.",
    }[cmd.filter]
    return action_list(
        found,
        title=title,
        teams=ctx.svc.config.teams,
        now=utcnow(),
        empty=empty,
        command=ctx.svc.command,
    )


def _action(ctx: Context, cmd: parsed.ShowAction) -> Reply:
    detail = ctx.svc.cases.actions.get(cmd.action_id)
    return action_detail(detail, ctx.svc.config.teams[detail.action.team], now=utcnow())


def _plan(ctx: Context, cmd: parsed.Plan) -> Reply:
    change = ctx.svc.cases.actions.plan(
        cmd.team,
        cause=cmd.cause,
        due=cmd.due,
        owner=cmd.owner,
        text=cmd.text,
        actor=ctx.user,
        source=SOURCE,
    )
    a = change.action
    return ctx.changed(
        f":clipboard: {a.ref} planned for {ctx.svc.config.teams[a.team].name}, owner <@{a.owner}>."
    )


def _done(ctx: Context, cmd: parsed.Done) -> Reply:
    change = ctx.svc.cases.actions.done(
        cmd.action_id, live=cmd.live, text=cmd.text, actor=ctx.user, source=SOURCE
    )
    return ctx.changed(
        f":white_check_mark: {change.action.ref} is done; Loopbot verifies it once "
        f"{ctx.svc.config.teams[change.action.team].verify_window.days // 7} whole weeks have passed."
    )


def _drop(ctx: Context, cmd: parsed.Drop) -> Reply:
    change = ctx.svc.cases.actions.drop(cmd.action_id, cmd.reason, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":wastebasket: {change.action.ref} dropped.")


def _scope(ctx: Context, named: str | None, action: Action) -> tuple[list[Team], bool]:
    if named == parsed.ALL_TEAMS:
        return report_scope(ctx.svc.config, ctx.user, action, None, all_teams=True)
    return report_scope(ctx.svc.config, ctx.user, action, named or ctx.channel_team())


HANDLERS: dict[type, Callable[[Context, Any], Reply]] = {
    parsed.Help: _help,
    parsed.Usage: _usage,
    parsed.ListCases: _list,
    parsed.Show: _show,
    parsed.Ack: _ack,
    parsed.Assign: _assign,
    parsed.Note: _note,
    parsed.Resolve: _resolve,
    parsed.Reopen: _reopen,
    parsed.Digest: _digest,
    parsed.Chart: _chart,
    parsed.Stats: _stats,
    parsed.ListActions: _actions,
    parsed.ShowAction: _action,
    parsed.Plan: _plan,
    parsed.Done: _done,
    parsed.Drop: _drop,
}
