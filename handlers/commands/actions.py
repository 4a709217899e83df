"""The corrective-action subcommands of /feedback (SPEC §8): actions, action, plan, done, drop."""

from __future__ import annotations

from bot.cases.permissions import Action, require, visible
from bot.clock import utcnow
from bot.slack import parsed
from bot.slack.blocks.action import action_detail, action_list
from handlers.commands.context import SOURCE, Context, Reply, all_teams


def actions(ctx: Context, cmd: parsed.ListActions) -> Reply:
    key = None if cmd.team == parsed.ALL_TEAMS else cmd.team or ctx.channel_team()
    if key:
        team = ctx.svc.overview.team(key)
        require(ctx.svc.config, team, ctx.user, Action.SEE)
        keys, where = [team.key], team.name
    else:
        # A private team's actions name its cases: left out for those who may not see them (SPEC §11).
        every = visible(ctx.svc.config, ctx.svc.config.teams.values(), ctx.user)
        hidden = len(every) < len(ctx.svc.config.teams)
        keys, where = ([t.key for t in every] if hidden else None), all_teams(ctx)
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


def action(ctx: Context, cmd: parsed.ShowAction) -> Reply:
    detail = ctx.svc.cases.actions.get(cmd.action_id)
    team = ctx.svc.config.teams[detail.action.team]
    require(ctx.svc.config, team, ctx.user, Action.SEE, detail.action.ref)
    return action_detail(detail, team, now=utcnow())


def plan(ctx: Context, cmd: parsed.Plan) -> Reply:
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


def done(ctx: Context, cmd: parsed.Done) -> Reply:
    change = ctx.svc.cases.actions.done(
        cmd.action_id, live=cmd.live, text=cmd.text, actor=ctx.user, source=SOURCE
    )
    return ctx.changed(
        f":white_check_mark: {change.action.ref} is done; Loopbot verifies it once "
        f"{ctx.svc.config.teams[change.action.team].verify_window.days // 7} whole weeks have passed."
    )


def drop(ctx: Context, cmd: parsed.Drop) -> Reply:
    change = ctx.svc.cases.actions.drop(cmd.action_id, cmd.reason, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":wastebasket: {change.action.ref} dropped.")
