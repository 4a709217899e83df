"""What every /feedback subcommand's handler gets: the services, the person, the channel; the team scope."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.cases.permissions import Action, report_scope, visible
from bot.slack import parsed
from bot.slack.app import SlackServices
from bot.slack.blocks.notice import notice
from config.teams import Team

Reply = dict[str, Any] | None
SOURCE = "command"


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


def scope(ctx: Context, named: str | None, action: Action) -> tuple[list[Team], bool]:
    if named == parsed.ALL_TEAMS:
        return report_scope(ctx.svc.config, ctx.user, action, None, all_teams=True)
    return report_scope(ctx.svc.config, ctx.user, action, named or ctx.channel_team())


def all_teams(ctx: Context) -> str:
    """What a listing of every team covers: a private team's cases are left out of it (SPEC §11)."""
    every = ctx.svc.config.teams.values()
    seen = len(visible(ctx.svc.config, every, ctx.user)) == len(every)
    return "all teams" if seen else "all teams you may see"
