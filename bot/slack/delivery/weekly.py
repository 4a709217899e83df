"""Posts the weekly summary to the leaders' channel, composed and rendered when it goes out (queued by jobs.periodic)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.delivery.outbox import WEEKLY, Claimed
from bot.reports.weekly import Weekly
from bot.slack.blocks.weekly import weekly_message
from bot.slack.delivery.posting import post_once
from bot.slack.delivery.worker import Batch, Handler, Permanent
from config.teams import LoopbotConfig


class WeeklyPost(Handler):
    kind = WEEKLY

    def __init__(
        self, weekly: Weekly, config: LoopbotConfig, client: WebClient, command: str = "/feedback"
    ):
        self.weekly = weekly
        self.config = config
        self.client = client
        self.command = command

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the weekly summary names no channel")
        until = datetime.fromisoformat(claim.payload["at"])
        ts = post_once(
            self.client,
            claim,
            claim.channel,
            lambda: weekly_message(self.weekly.compose(until), self.config, command=self.command),
        )
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "ts": ts})
