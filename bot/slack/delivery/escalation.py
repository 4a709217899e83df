"""Posts an escalation to the leaders' channel, rendered when it goes out (queued by bot.alerts.escalations)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.cases.lifecycle import Cases
from bot.delivery.outbox import ESCALATION, Claimed
from bot.slack.blocks.escalation import leaders_message
from bot.slack.delivery.posting import post_once
from bot.slack.delivery.worker import Batch, Handler, Permanent
from config.teams import LoopbotConfig


class EscalationPost(Handler):
    kind = ESCALATION

    def __init__(
        self, cases: Cases, config: LoopbotConfig, client: WebClient, command: str = "/feedback"
    ):
        self.cases = cases
        self.config = config
        self.client = client
        self.command = command

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the escalation names no channel")
        detail = self.cases.get(claim.payload["case_id"])
        event = next((e for e in detail.events if e.id == claim.payload["event_id"]), None)
        team = self.config.teams.get(detail.case.team)
        if event is None or team is None:
            raise Permanent(f"the escalation of {detail.case.ref} no longer has its event or team")
        ts = post_once(
            self.client,
            claim,
            claim.channel,
            # As of the escalation: the case's age and the SLA it missed then, however late this goes out.
            lambda: leaders_message(
                detail.case,
                team,
                event.details,
                leaders=self.config.leaders,
                now=event.at,
                command=self.command,
            ),
        )
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "ts": ts})
