"""Silences in Slack: the team's channel told when a silence starts and when it ends, each post once."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.alerts.silences import Silences
from bot.delivery.outbox import SILENCE_END, SILENCE_START, Claimed
from bot.errors import NotFound
from bot.slack.blocks.silence import end_message, start_message
from bot.slack.delivery.posting import post_once
from bot.slack.delivery.worker import Batch, Handler, Permanent
from config.teams import LoopbotConfig


class _SilencePost(Handler):
    def __init__(
        self,
        silences: Silences,
        config: LoopbotConfig,
        client: WebClient,
        command: str = "/feedback",
    ):
        self.silences, self.config, self.client, self.command = silences, config, client, command

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the silence post names no channel")
        try:
            detail = self.silences.get(int(claim.payload["silence_id"]))
        except NotFound:
            raise Permanent(f"silence S-{claim.payload['silence_id']} no longer exists") from None
        team = self.config.teams.get(detail.silence.team)
        if team is None:
            raise Permanent(f"the team of {detail.silence.ref} is no longer configured")

        def render() -> dict[str, Any]:
            # From the stored silence: a post that goes out late still says what happened then.
            if self.kind == SILENCE_START:
                return start_message(detail.silence, team, command=self.command)
            return end_message(detail, team)

        ts = post_once(self.client, claim, claim.channel, render)
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "ts": ts})


class SilenceStartPost(_SilencePost):
    kind = SILENCE_START


class SilenceEndPost(_SilencePost):
    kind = SILENCE_END
