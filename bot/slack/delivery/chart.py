"""Shares a chart asked for: reads its numbers, renders the PNG in the worker process, uploads it with files v2."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.charts.describe import describe, no_data, title
from bot.charts.request import CHART_KIND, ChartRequest
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.delivery.outbox import Claimed
from bot.slack.delivery.posting import post
from bot.slack.delivery.worker import UNDELIVERED, Batch, Handler, Permanent, TryLater
from config.teams import LoopbotConfig

log = logging.getLogger("loopbot.charts")
DRAW_ATTEMPTS = 3


class ChartPost(Handler):
    kind = CHART_KIND

    def __init__(
        self, charts: Charts, renderer: Renderer, config: LoopbotConfig, client: WebClient
    ):
        self.charts = charts
        self.renderer = renderer
        self.config = config
        self.client = client

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        try:
            self._draw_and_share(claim, batch)
        except UNDELIVERED:
            raise  # the worker's handling: fail, wait out a 429, back off
        except Exception as exc:
            # A bug in reading or drawing fails the same way every time: a few tries, then the person is told.
            log.exception("chart %s could not be drawn (attempt %d)", claim.key, claim.attempts)
            if claim.attempts >= DRAW_ATTEMPTS:
                raise Permanent(f"could not draw the chart: {type(exc).__name__}") from exc
            raise TryLater(f"{type(exc).__name__}: {exc}") from exc

    def _draw_and_share(self, claim: Claimed, batch: Batch) -> None:
        if claim.channel is None:
            raise Permanent("the chart names no channel")
        req = ChartRequest.from_payload(claim.payload)
        chart = self.charts.build(req)
        if chart is None:
            teams = [self.config.teams[k] for k in req.teams]
            self._tell(claim, req, no_data(req.kind, self.charts.title(req, teams), req.period))
            batch.deliveries.done(claim, batch.clock(), {"no_data": True})
            return
        name = filename(claim)
        found = self._uploaded_before(claim, name)
        if found is None:
            png = self.renderer.render(chart)
            resp = self.client.files_upload_v2(
                channel=claim.channel,
                file=png,
                filename=name,
                title=title(chart),
                alt_txt=title(chart),
                initial_comment=describe(chart),
            )
            found = resp["files"][0]["id"] if resp.get("files") else resp["file"]["id"]
        batch.deliveries.done(claim, batch.clock(), {"channel": claim.channel, "file": found})

    def _uploaded_before(self, claim: Claimed, name: str) -> str | None:
        """The file id if an earlier attempt shared this chart after all (its file name is unique per request)."""
        if claim.attempts <= 1:
            return None
        oldest = f"{claim.created_at.timestamp() - 1:.6f}"
        resp = self.client.conversations_history(channel=claim.channel, oldest=oldest, limit=200)
        for message in resp.get("messages") or []:
            for f in message.get("files") or []:
                if f.get("name") == name:
                    log.info(
                        "chart %s was shared by an earlier attempt; not uploading it again",
                        claim.key,
                    )
                    return str(f["id"])
        return None

    def failed(self, claim: Claimed, error: str) -> None:
        # The person who asked would otherwise wait for nothing.
        hint = (
            " Invite me to the channel (`/invite @Loopbot`) or ask in your team's channel."
            if error in ("not_in_channel", "channel_not_found")
            else ""
        )
        req = ChartRequest.from_payload(claim.payload)
        text = f":warning: I could not post the {req.kind} chart here: `{error}`.{hint}"
        self._tell(claim, req, text, dm=True)

    def _tell(self, claim: Claimed, req: ChartRequest, text: str, *, dm: bool = False) -> None:
        """An ephemeral note to the person who asked (or, when the channel is closed to the bot, a DM)."""
        if req.user is None:
            return
        try:
            if dm:
                post(self.client, channel=req.user, text=text)
            else:
                self.client.chat_postEphemeral(channel=claim.channel, user=req.user, text=text)
        except Exception as exc:  # a courtesy: its failure must not fail the chart
            log.warning("could not tell %s about chart %s: %s", req.user, claim.key, exc)


def filename(claim: Claimed) -> str:
    p = claim.payload
    scope = "all" if p.get("all") else "-".join(p["teams"])
    by = f"-by-{p['by']}" if p.get("by") else ""
    return f"{p['kind']}{by}-{scope}-{p['period']}-{claim.id}.png"
