"""The signal subcommands of /feedback (SPEC §9): silence, silences, unsilence, customer."""

from __future__ import annotations

from bot.clock import utcnow
from bot.slack import parsed
from bot.slack.blocks.customer import customer_message
from bot.slack.blocks.silence import silenced_what, silences_answer
from bot.slack.blocks.text import fmt_time
from handlers.commands.context import SOURCE, Context, Reply


def silence(ctx: Context, cmd: parsed.Silence) -> Reply:
    found = ctx.svc.silences.start(
        cmd.team, cmd.rule, cmd.duration, cmd.reason, actor=ctx.user, source=SOURCE
    )
    team = ctx.svc.config.teams[found.team]
    return ctx.changed(
        f":no_bell: {found.ref}: {silenced_what(found.pattern)} of {team.name} silenced until "
        f"{fmt_time(found.ends_at, team.tz)}; the channel is told. "
        f"`{ctx.svc.command} unsilence {found.ref}` ends it early."
    )


def silences(ctx: Context, cmd: parsed.ListSilences) -> Reply:
    named = cmd.team or ctx.channel_team()
    teams = None if named in (None, parsed.ALL_TEAMS) else named
    where = ctx.svc.config.teams[teams].name if teams in ctx.svc.config.teams else "all teams"
    found = ctx.svc.silences.list(teams)
    return silences_answer(
        found,
        title=f"Silences of {where}",
        teams=ctx.svc.config.teams,
        now=utcnow(),
        command=ctx.svc.command,
    )


def unsilence(ctx: Context, cmd: parsed.Unsilence) -> Reply:
    found = ctx.svc.silences.end(cmd.silence_id, actor=ctx.user, source=SOURCE)
    team = ctx.svc.config.teams.get(found.team)
    name = team.name if team else found.team
    return ctx.changed(
        f":bell: {found.ref} ended: {silenced_what(found.pattern)} of {name} open cases again."
    )


def customer(ctx: Context, cmd: parsed.CustomerView) -> Reply:
    ctx.svc.audit.customer_lookup(ctx.user, cmd.customer)
    found = ctx.svc.customers.view(cmd.customer, ctx.user, utcnow())
    return customer_message(found, ctx.svc.config.teams)
