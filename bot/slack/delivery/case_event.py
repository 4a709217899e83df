"""A change to a case in Slack: its message (or the grouped message it is in) updated in place, a line in the thread."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from bot.cases.lifecycle import Cases
from bot.delivery.outbox import CASE_EVENT, Claimed
from bot.slack.blocks.case import case_message, event_line, group_message
from bot.slack.delivery.case_open import case_row, playbook_of
from bot.slack.delivery.posting import post_once, update_or_repost
from bot.slack.delivery.worker import Batch, Handler, Held, Permanent
from config.teams import LoopbotConfig

# A change to a case whose own message is not in Slack yet waits this long and looks again.
WAIT_FOR_MESSAGE = timedelta(seconds=2)
DELETED_NOTE = "The case message was deleted; posted again"


class CaseEvent(Handler):
    kind = CASE_EVENT

    def __init__(self, cases: Cases, config: LoopbotConfig, client: WebClient):
        self.cases = cases
        self.config = config
        self.client = client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        deliveries, now = batch.deliveries, batch.clock()
        detail = self.cases.get(claim.payload["case_id"])
        case = detail.case
        if not case.slack_ts:
            if deliveries.open_post_state(case.id) == "failed":
                raise Permanent(
                    f"the message of {case.ref} could not be posted, so its thread cannot be either"
                )
            if (parked := deliveries.parked_for(f"case:{case.id}:open")) is not None:
                raise Held(*parked)  # goes out after the message, once its fix is made
            deliveries.retry([claim], now + WAIT_FOR_MESSAGE, None, count_attempt=False)
            return
        if (due := deliveries.earlier_change_waits(case.id, claim.id)) is not None:
            # An earlier change's retry comes later (Slack was down, or it is parked): its thread line
            # goes first, so this one waits until then.
            deliveries.retry([claim], max(due, now + WAIT_FOR_MESSAGE), None, count_attempt=False)
            return
        team = self.config.teams[case.team]
        event = next((e for e in detail.events if e.id == claim.payload["event_id"]), None)
        if event is None:
            raise Permanent(f"event {claim.payload['event_id']} of {case.ref} no longer exists")
        grouped = deliveries.message_cases(case.slack_channel, case.slack_ts)
        if len(grouped) > 1:
            body = group_message([case_row(self.cases, i) for i in grouped], team, now=now)
        else:
            body = case_message(detail, team, now=now, playbook=playbook_of(self.config, case))
        channel = case.slack_channel
        thread = update_or_repost(
            self.client,
            claim,
            channel,
            case.slack_ts,
            body,
            note=DELETED_NOTE,
            moved=lambda old, new: deliveries.moved(channel, old, new),
        )
        ts = post_once(
            self.client,
            claim,
            channel,
            lambda: {"text": event_line(event, case, team)},
            thread=thread,
        )
        deliveries.done(claim, batch.clock(), {"channel": channel, "ts": ts})
