"""Posts a team's huddle digest, composed and rendered when it goes out (queued by bot.reports.digest.enqueue_digest)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient

from bot.delivery.outbox import DIGEST, Claimed
from bot.reports.digest import Digests
from bot.slack.blocks.digest import digest_message
from bot.slack.delivery.posting import post_once
from bot.slack.delivery.worker import Batch, Handler, Permanent
from config.teams import LoopbotConfig


class DigestPost(Handler):
    kind = DIGEST

    def __init__(self, digests: Digests, config: LoopbotConfig, client: WebClient):
        self.digests = digests
        self.config = config
        self.client = client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        team = self.config.teams.get(claim.payload["team"])
        if team is None:  # removed from the configuration since the digest was queued
            raise Permanent(f"there is no team {claim.payload['team']!r} any more")
        at = datetime.fromisoformat(claim.payload["at"])
        channel = claim.channel or team.channel
        ts = post_once(
            self.client,
            claim,
            channel,
            # The period up to `at`, rendered as of `at`: a late post covers what it would have on time.
            lambda: digest_message(self.digests.for_team(team.key, at), team, now=at),
        )
        batch.deliveries.done(claim, batch.clock(), {"channel": channel, "ts": ts})
