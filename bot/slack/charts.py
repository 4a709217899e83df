"""Delivers queued charts: reads the numbers, renders the PNG in the worker process, uploads it with files v2."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cases.lifecycle import Cases
from bot.charts.describe import describe, no_data, title
from bot.charts.request import CHART_KIND, ChartRequest
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.delivery.deliveries import Deliveries
from bot.delivery.outbox import Claimed, Lane
from bot.slack.notifier import Notifier, Permanent
from config.teams import LoopbotConfig, Team

log = logging.getLogger("loopbot.charts")
DRAW_ATTEMPTS = 3


class ChartPoster(Notifier):
    """The notifier's retries, backoff and failure handling, on a thread and lane of its own: a chart that
    takes seconds to draw holds up neither case messages nor anyone's command."""

    LANE = Lane(only=(CHART_KIND,))
    THREAD = "loopbot-charts"

    def __init__(
        self,
        deliveries: Deliveries,
        cases: Cases,
        config: LoopbotConfig,
        client: WebClient,
        *,
        charts: Charts,
        renderer: Renderer,
        **options: Any,
    ):
        super().__init__(deliveries, cases, config, client, **options)
        self.charts = charts
        self.renderer = renderer

    def deliver_due(self, limit: int = 1) -> int:
        # One claim at a time: charts take a second or more each, and a batch claimed together could outlive
        # its 60-second lease while waiting its turn, so another replica would draw the same chart again.
        return super().deliver_due(limit)

    def _handlers(self) -> dict[str, Callable[[Claimed], None]]:
        return {CHART_KIND: self._chart}

    def _chart(self, claim: Claimed) -> None:
        try:
            self._draw_and_share(claim)
        except (Permanent, SlackApiError, OSError):
            raise  # the notifier's handling: fail, wait out a 429, back off
        except Exception as exc:
            # A bug in reading or drawing fails the same way every time: a few tries, then the person is told.
            log.exception("chart %s could not be drawn (attempt %d)", claim.key, claim.attempts)
            if claim.attempts >= DRAW_ATTEMPTS:
                raise Permanent(f"could not draw the chart: {type(exc).__name__}") from exc
            self._backoff([claim], f"{type(exc).__name__}: {exc}")

    def _draw_and_share(self, claim: Claimed) -> None:
        if claim.channel is None:
            raise Permanent("the chart names no channel")
        req = ChartRequest.from_payload(claim.payload)
        chart = self.charts.build(req)
        if chart is None:
            self._tell(
                claim, req, no_data(req.kind, self.charts.title(req, self._teams(req)), req.period)
            )
            self.deliveries.done(claim, self.clock(), {"no_data": True})
            return
        name = filename(claim)
        found = self._uploaded_before(claim, name)
        if found is None:
            png = self.renderer.render(chart)
            resp = self._call(
                "files_upload_v2",
                channel=claim.channel,
                file=png,
                filename=name,
                title=title(chart),
                alt_txt=title(chart),
                initial_comment=describe(chart),
            )
            found = resp["files"][0]["id"] if resp.get("files") else resp["file"]["id"]
        self.deliveries.done(claim, self.clock(), {"channel": claim.channel, "file": found})

    def _uploaded_before(self, claim: Claimed, name: str) -> str | None:
        """The file id if an earlier attempt shared this chart after all (its file name is unique per request)."""
        if claim.attempts <= 1:
            return None
        oldest = f"{claim.created_at.timestamp() - 1:.6f}"
        resp = self._call("conversations_history", channel=claim.channel, oldest=oldest, limit=200)
        for message in resp.get("messages") or []:
            for f in message.get("files") or []:
                if f.get("name") == name:
                    log.info(
                        "chart %s was shared by an earlier attempt; not uploading it again",
                        claim.key,
                    )
                    return str(f["id"])
        return None

    def _fail(self, claims: list[Claimed], error: str) -> None:
        super()._fail(claims, error)
        for claim in claims:  # the person who asked would otherwise wait for nothing
            req = ChartRequest.from_payload(claim.payload)
            hint = (
                " Invite me to the channel (`/invite @Loopbot`) or ask in your team's channel."
                if error in ("not_in_channel", "channel_not_found")
                else ""
            )
            self._tell(
                claim,
                req,
                f":warning: I could not post the {req.kind} chart here: `{error}`.{hint}",
                dm=True,
            )

    def _tell(self, claim: Claimed, req: ChartRequest, text: str, *, dm: bool = False) -> None:
        """An ephemeral note to the person who asked (or, when the channel is closed to the bot, a DM)."""
        if req.user is None:
            return
        try:
            if dm:
                self._post(channel=req.user, text=text)
            else:
                self._call("chat_postEphemeral", channel=claim.channel, user=req.user, text=text)
        except Exception as exc:  # a courtesy: its failure must not fail the chart
            log.warning("could not tell %s about chart %s: %s", req.user, claim.key, exc)

    def _teams(self, req: ChartRequest) -> list[Team]:
        return [self.config.teams[k] for k in req.teams]


def filename(claim: Claimed) -> str:
    p = claim.payload
    scope = "all" if p.get("all") else "-".join(p["teams"])
    return f"{p['kind']}-{scope}-{p['period']}-{claim.id}.png"
