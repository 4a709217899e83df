"""Posts a message rendered when it was enqueued: rows queued before each kind of post had a handler of its own."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.delivery.outbox import POST, Claimed
from bot.slack.delivery.posting import post_once
from bot.slack.delivery.worker import Batch, Handler, Permanent


class PlainPost(Handler):
    """Kind "post": digests, weekly summaries and leaders' escalation posts were queued this way, rendered,
    before they had kinds of their own, and a database may still hold some: they go out as stored."""

    kind = POST

    def __init__(self, client: WebClient):
        self.client = client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the post names no channel")
        ts = post_once(self.client, claim, claim.channel, lambda: claim.payload)
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "ts": ts})
