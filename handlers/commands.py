"""The /feedback slash command: parse, one core call, render, answer in the ack (ephemeral)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.cases.permissions import Action, is_leader, is_supervisor, require
from bot.charts.request import ChartRequest
from bot.clock import utcnow
from bot.errors import InvalidInput, PermissionDenied
from bot.slack import grammar
from bot.slack.app import SlackServices, guarded
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.lists import case_detail, case_list
from bot.slack.blocks.modals import resolve_modal
from bot.slack.blocks.notice import notice
from bot.slack.blocks.stats import stats_message
from bot.slack.ids import CaseMeta
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


def _help(ctx: Context, _cmd: grammar.Help) -> Reply:
    return notice(grammar.usage(ctx.svc.command))


def _usage(_ctx: Context, cmd: grammar.Usage) -> Reply:
    return notice(f":warning: {cmd.message}")


def _list(ctx: Context, cmd: grammar.ListCases) -> Reply:
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


def _show(ctx: Context, cmd: grammar.Show) -> Reply:
    detail = ctx.svc.cases.get(cmd.case_id)
    return case_detail(detail, ctx.svc.config.teams[detail.case.team], now=utcnow())


def _ack(ctx: Context, cmd: grammar.Ack) -> Reply:
    change = ctx.svc.cases.acknowledge(cmd.case_id, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":eyes: {change.case.ref} acknowledged.")


def _assign(ctx: Context, cmd: grammar.Assign) -> Reply:
    assignee = ctx.user if cmd.user == "me" else cmd.user
    change = ctx.svc.cases.assign(cmd.case_id, assignee, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":bust_in_silhouette: {change.case.ref} assigned to <@{assignee}>.")


def _note(ctx: Context, cmd: grammar.Note) -> Reply:
    change = ctx.svc.cases.note(cmd.case_id, cmd.text, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":memo: Note added to {change.case.ref}.")


def _resolve(ctx: Context, cmd: grammar.Resolve) -> Reply:
    if cmd.action is None or cmd.cause is None or cmd.outcome is None:
        # Anything missing is asked for in the modal, with what was typed already filled in.
        detail = ctx.svc.cases.get_for(cmd.case_id, ctx.user, Action.RESOLVE)
        if not ctx.trigger_id:
            raise InvalidInput(
                "Write the whole resolution, e.g. `resolve FB-12 cause=late_delivery outcome=fixed Refunded`."
            )
        view = resolve_modal(
            detail.case,
            causes=[*ctx.svc.config.categories, "other"],
            meta=CaseMeta(case_id=detail.case.id, channel=ctx.channel),
            cause=cmd.cause,
            outcome=cmd.outcome,
        )
        # An empty answer, sent when this listener returns (process_before_response): after views.open,
        # so Slack's 3 s cover that call too; a trigger_id must be used within 3 s anyway.
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)
        return None
    change = ctx.svc.cases.resolve(
        cmd.case_id,
        outcome=cmd.outcome,
        root_cause=cmd.cause,
        action=cmd.action,
        rationale=cmd.action if cmd.outcome == "no_action" else None,
        actor=ctx.user,
        source=SOURCE,
    )
    return ctx.changed(f":white_check_mark: {change.case.ref} resolved.")


def _reopen(ctx: Context, cmd: grammar.Reopen) -> Reply:
    change = ctx.svc.cases.reopen(cmd.case_id, cmd.reason, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":arrows_counterclockwise: {change.case.ref} reopened.")


def _digest(ctx: Context, cmd: grammar.Digest) -> Reply:
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


def _stats(ctx: Context, cmd: grammar.Stats) -> Reply:
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


def _chart(ctx: Context, cmd: grammar.Chart) -> Reply:
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


def _scope(ctx: Context, named: str | None, action: Action) -> tuple[list[Team], bool]:
    """The teams a stats (or chart) request covers, checked: a named team or the channel's team needs its
    supervisors or a leader; `all` is for leaders; elsewhere a supervisor gets the teams they supervise."""
    config = ctx.svc.config
    key = named or ctx.channel_team()
    if key is not None and key != grammar.ALL_TEAMS:
        team = ctx.svc.overview.team(key)
        require(config, team, ctx.user, action)
        return [team], False
    if is_leader(config, ctx.user):
        return list(config.teams.values()), True
    mine = [t for t in config.teams.values() if is_supervisor(t, ctx.user)]
    if key is None and mine:
        return mine, len(mine) > 1
    if mine:
        raise PermissionDenied(
            f"Only leaders can {action} for all teams; ask for one of yours: "
            f"{', '.join(f'`{t.key}`' for t in mine)}."
        )
    raise PermissionDenied(f"Only supervisors (for their own team) and leaders can {action}.")


HANDLERS: dict[type, Callable[[Context, Any], Reply]] = {
    grammar.Help: _help,
    grammar.Usage: _usage,
    grammar.ListCases: _list,
    grammar.Show: _show,
    grammar.Ack: _ack,
    grammar.Assign: _assign,
    grammar.Note: _note,
    grammar.Resolve: _resolve,
    grammar.Reopen: _reopen,
    grammar.Digest: _digest,
    grammar.Chart: _chart,
    grammar.Stats: _stats,
}
