"""App Home: the person's cases and corrective actions, their teams' silences and last 7 days, published when
they open the tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.clock import utcnow
from bot.slack.app import SlackServices, guarded
from bot.slack.blocks.action import my_actions_blocks
from bot.slack.blocks.home import home_view
from bot.slack.blocks.silence import home_silence_blocks


def register(app: App, svc: SlackServices) -> None:
    @app.event("app_home_opened")
    @guarded
    def opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user, now = event["user"], utcnow()
        mine = my_actions_blocks(
            svc.cases.actions.owned_by(user), svc.config.teams, now=now, command=svc.command
        )
        data = svc.overview.home(user)
        silenced = home_silence_blocks(
            svc.silences.list([h.team for h in data.headlines], now),
            svc.config.teams,
            now=now,
            command=svc.command,
        )
        view = home_view(
            data,
            svc.config.teams,
            now=now,
            command=svc.command,
            own_actions=mine,
            silenced=silenced,
        )
        client.views_publish(user_id=user, view=view)
