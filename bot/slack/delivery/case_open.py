"""Posts a new case's message to its team's channel; in an alert storm, the rest of the burst as one grouped message."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.cases.lifecycle import Cases
from bot.cases.model import CaseRecord
from bot.delivery.deliveries import Group, Wait
from bot.delivery.outbox import CASE_OPEN, Claimed
from bot.reports.queries import CaseRow
from bot.slack.blocks.case import case_message, group_message
from bot.slack.delivery.posting import post, post_once
from bot.slack.delivery.worker import UNDELIVERED, Batch, Handler
from config.teams import LoopbotConfig


class CaseOpen(Handler):
    kind = CASE_OPEN

    def __init__(self, cases: Cases, config: LoopbotConfig, client: WebClient):
        self.cases = cases
        self.config = config
        self.client = client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        deliveries, now = batch.deliveries, batch.clock()
        detail = self.cases.get(claim.payload["case_id"])
        if detail.case.slack_ts:  # posted already (a retried claim after its result was saved)
            deliveries.done(
                claim, now, {"channel": detail.case.slack_channel, "ts": detail.case.slack_ts}
            )
            return
        team = self.config.teams[detail.case.team]
        plan = deliveries.plan(claim, now)
        if isinstance(plan, Wait):
            deliveries.retry([claim], plan.until, None, count_attempt=False)
            return
        if isinstance(plan, Group):
            # Give back this round's other case posts of the channel too, so the group takes them all.
            mine = batch.take(lambda c: c.kind == CASE_OPEN and c.channel == claim.channel)
            deliveries.retry(mine, now, None, count_attempt=False)
            self._post_group(team.channel, team.key, batch)
            return
        # A systemic case goes to the leaders' channel: the post's channel decides, not the team's.
        channel = claim.channel or team.channel
        playbook = playbook_of(self.config, detail.case)
        ts = post_once(
            self.client,
            claim,
            channel,
            lambda: case_message(detail, team, now=now, playbook=playbook),
        )
        deliveries.posted([claim], channel, ts, batch.clock())

    def _post_group(self, channel: str, team_key: str, batch: Batch) -> None:
        now = batch.clock()
        claims = batch.deliveries.claim_burst(channel, now)
        if not claims:
            return
        team = self.config.teams[team_key]
        rows = [case_row(self.cases, c.payload["case_id"]) for c in claims]
        try:
            resp = post(self.client, channel=channel, **group_message(rows, team, now=now))
        except UNDELIVERED as exc:
            batch.undelivered(claims, exc)
            return
        batch.deliveries.posted(claims, resp["channel"], resp["ts"], batch.clock(), grouped=True)


def playbook_of(config: LoopbotConfig, case: CaseRecord) -> list[str]:
    """The playbook of the case's category (SPEC §8), shown on its message while it is unresolved."""
    category = config.categories.get((case.summary or {}).get("category") or "")
    return list(category.playbook) if category is not None and case.state != "resolved" else []


def case_row(cases: Cases, case_id: int) -> CaseRow:
    """The case as a line of a grouped message."""
    detail = cases.get(case_id)
    c, t = detail.case, detail.timings
    return CaseRow(
        id=c.id,
        kind=c.kind,
        team=c.team,
        state=c.state,
        severity=c.severity,
        opened_at=c.opened_at,
        assignee=c.assignee,
        summary=dict(c.summary or {}),
        acknowledged_at=t.acknowledged_at,
        ack_due=t.ack_due,
        resolve_due=t.resolve_due,
    )
