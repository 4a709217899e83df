"""Corrective actions in Slack: the action's own message, each change updating it in place with a line in its
thread, and an overdue action told to its owner (a DM) or to the leaders' channel."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from bot.cases.actions import CorrectiveActions
from bot.delivery.outbox import ACTION_ESCALATION, ACTION_EVENT, ACTION_OPEN, Claimed
from bot.slack.blocks.action import action_event_line, action_message, overdue_message
from bot.slack.delivery.posting import post_once, update_or_repost
from bot.slack.delivery.worker import Batch, Handler, Held, Permanent
from config.teams import LoopbotConfig

# A change to an action whose own message is not in Slack yet waits this long and looks again.
WAIT_FOR_MESSAGE = timedelta(seconds=2)


class ActionOpen(Handler):
    kind = ACTION_OPEN

    def __init__(self, actions: CorrectiveActions, config: LoopbotConfig, client: WebClient):
        self.actions, self.config, self.client = actions, config, client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        now = batch.clock()
        detail = self.actions.get(claim.payload["action_id"])
        action = detail.action
        if action.slack_ts:  # posted already (a retried claim after its result was saved)
            batch.deliveries.done(
                claim, now, {"channel": action.slack_channel, "ts": action.slack_ts}
            )
            return
        team = self.config.teams.get(action.team)
        if team is None:
            raise Permanent(f"the team of {action.ref} is no longer configured")
        ts = post_once(
            self.client, claim, team.channel, lambda: action_message(detail, team, now=now)
        )
        batch.deliveries.posted([claim], team.channel, ts, batch.clock())


class ActionEvent(Handler):
    kind = ACTION_EVENT

    def __init__(self, actions: CorrectiveActions, config: LoopbotConfig, client: WebClient):
        self.actions, self.config, self.client = actions, config, client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        deliveries, now = batch.deliveries, batch.clock()
        detail = self.actions.get(claim.payload["action_id"])
        action = detail.action
        if not action.slack_ts:
            if deliveries.post_state(f"action:{action.id}:open") == "failed":
                raise Permanent(
                    f"the message of {action.ref} could not be posted, so its thread cannot be either"
                )
            if (parked := deliveries.parked_for(f"action:{action.id}:open")) is not None:
                raise Held(*parked)  # goes out after the message, once its fix is made
            deliveries.retry([claim], now + WAIT_FOR_MESSAGE, None, count_attempt=False)
            return
        team = self.config.teams.get(action.team)
        event = next((e for e in detail.events if e.id == claim.payload["event_id"]), None)
        if event is None or team is None:
            raise Permanent(f"event {claim.payload['event_id']} of {action.ref} no longer exists")
        channel = action.slack_channel
        thread = update_or_repost(
            self.client,
            claim,
            channel,
            action.slack_ts,
            action_message(detail, team, now=now),
            note="The action message was deleted; posted again",
            moved=lambda old, new: deliveries.moved(channel, old, new),
        )
        ts = post_once(
            self.client,
            claim,
            channel,
            lambda: {"text": action_event_line(event, action, team)},
            thread=thread,
        )
        deliveries.done(claim, batch.clock(), {"channel": channel, "ts": ts})


class ActionEscalationPost(Handler):
    kind = ACTION_ESCALATION

    def __init__(
        self,
        actions: CorrectiveActions,
        config: LoopbotConfig,
        client: WebClient,
        command: str = "/feedback",
    ):
        self.actions, self.config, self.client, self.command = actions, config, client, command

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the escalation names no channel")
        detail = self.actions.get(claim.payload["action_id"])
        event = next((e for e in detail.events if e.id == claim.payload["event_id"]), None)
        team = self.config.teams.get(detail.action.team)
        if event is None or team is None:
            raise Permanent(f"the escalation of {detail.action.ref} lost its event or team")
        ts = post_once(
            self.client,
            claim,
            claim.channel,
            # As of the escalation, however late this goes out.
            lambda: overdue_message(
                detail.action,
                team,
                level=event.details.get("level", "owner"),
                now=event.at,
                command=self.command,
            ),
        )
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "ts": ts})
