"""The report subcommands of /feedback: digest, stats, chart."""

from __future__ import annotations

from datetime import timedelta

from bot.cases.permissions import Action, require
from bot.charts.request import ChartRequest
from bot.clock import utcnow
from bot.errors import InvalidInput
from bot.slack import parsed
from bot.slack.blocks.breakdown import breakdown_message
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.notice import notice
from bot.slack.blocks.stats import stats_message
from handlers.commands.context import Context, Reply, scope


def digest(ctx: Context, cmd: parsed.Digest) -> Reply:
    key = cmd.team or ctx.channel_team()
    if key is None:
        teams = ", ".join(f"`{k}`" for k in ctx.svc.config.teams)
        raise InvalidInput(
            f"This channel belongs to no team: name one, e.g. `{ctx.svc.command} digest "
            f"{next(iter(ctx.svc.config.teams))}` (teams: {teams})."
        )
    team = ctx.svc.digests.team(key)
    require(ctx.svc.config, team, ctx.user, Action.SEE)
    now = utcnow()
    return digest_message(ctx.svc.digests.for_team(team.key, now), team, now=now)


def stats(ctx: Context, cmd: parsed.Stats) -> Reply:
    teams, all_teams = scope(ctx, cmd.team, Action.STATS)
    now = utcnow()
    keys, since, period = (
        [t.key for t in teams],
        now - timedelta(days=cmd.period.days),
        f"last {cmd.period.text}",
    )
    if cmd.by is not None:
        found = ctx.svc.stats.breakdown(keys, cmd.by, since, now)
        return breakdown_message(
            found, ctx.svc.config.teams, period_label=period, all_teams=all_teams
        )
    return stats_message(
        ctx.svc.stats.for_teams(keys, since, now, now),
        ctx.svc.config.teams,
        period_label=period,
        all_teams=all_teams,
        command=ctx.svc.command,
        agreement=ctx.svc.stats.categories(keys, since, now) if cmd.categories else None,
        silenced=ctx.svc.silences.breaches(keys, since, now),
    )


def chart(ctx: Context, cmd: parsed.Chart) -> Reply:
    teams, all_teams = scope(ctx, cmd.team, Action.CHART)
    req = ChartRequest(
        kind=cmd.kind,
        teams=tuple(t.key for t in teams),
        all_teams=all_teams,
        days=cmd.period.days,
        period=cmd.period.text,
        user=ctx.user,
        until=utcnow(),
        by=cmd.by,
    )
    # Queued, not drawn here: the answer goes back in the ack, and the chart worker posts the image in a few seconds.
    ctx.svc.charts.request(
        req, channel=ctx.channel, key=f"chart:{ctx.trigger_id}" if ctx.trigger_id else None
    )
    ctx.svc.draw()
    where = "all teams" if all_teams else ", ".join(t.name for t in teams)
    by = f" by {cmd.by}" if cmd.by else ""
    return notice(
        f":bar_chart: Drawing the {cmd.kind} chart{by} for {where}, last {cmd.period.text}: "
        "it will appear in this channel in a few seconds."
    )
