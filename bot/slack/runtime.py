"""Loopbot in Slack for `loopbot run`: the client, the notifier, the App, and Socket Mode or HTTP mode."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import APIRouter
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.cases.lifecycle import Cases
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.delivery.deliveries import Deliveries
from bot.prometheus import Metrics
from bot.reports.digest import Digests
from bot.reports.overview import Overview
from bot.reports.stats import Stats
from bot.slack import socket
from bot.slack.app import SlackServices, create_app
from bot.slack.charts import ChartPoster
from bot.slack.client import make_client
from bot.slack.http import slack_router
from bot.slack.notifier import Notifier
from config.settings import Settings
from config.teams import LoopbotConfig

log = logging.getLogger("loopbot.slack")


@dataclass
class SlackRuntime:
    app: App
    notifier: Notifier
    chart_poster: ChartPoster
    router: APIRouter | None  # HTTP mode: POST /slack/events
    socket_handler: SocketModeHandler | None = None
    app_token: str | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        config: LoopbotConfig,
        cases: Cases,
        overview: Overview,
        deliveries: Deliveries,
        metrics: Metrics,
        digests: Digests,
        stats: Stats,
        charts: Charts,
    ) -> SlackRuntime:
        client = make_client(settings, on_error=metrics.slack_error)

        def failed(kind: str) -> None:
            metrics.posts_failed.labels(kind).inc()

        notifier = Notifier(deliveries, cases, config, client, on_failed=failed)
        # Charts wait for a wake-up from the command that asks for one; polling is only the fallback.
        chart_poster = ChartPoster(
            deliveries,
            cases,
            config,
            client,
            charts=charts,
            renderer=Renderer(),
            poll_s=2,
            on_failed=failed,
        )
        services = SlackServices(
            config=config,
            cases=cases,
            overview=overview,
            command=settings.command,
            notify=notifier.wake,
            digests=digests,
            stats=stats,
            charts=charts,
            draw=chart_poster.wake,
        )
        app = create_app(settings, services, client)
        app_token = (
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        )
        return cls(
            app,
            notifier,
            chart_poster,
            None if app_token else slack_router(app),
            app_token=app_token,
        )

    def start(self) -> None:
        try:
            who = self.app.client.auth_test()
            log.info("connected to Slack as %s in %s", who.get("user"), who.get("team"))
        except (SlackApiError, OSError) as exc:
            # Keep running: ingestion works and the outbox delivers once Slack answers again.
            log.warning(
                "Slack auth.test failed (%s); posts wait in the outbox until Slack answers", exc
            )
        self.notifier.start()
        self.chart_poster.renderer.warm()  # the worker process imports matplotlib now, not on the first chart
        self.chart_poster.start()
        if self.app_token is not None:
            self.socket_handler = socket.connect(self.app, self.app_token)
            log.info("Socket Mode connected")

    def stop(self) -> None:
        """Stop taking new Slack requests, then let the notifier finish the post in hand."""
        if self.socket_handler is not None:
            self.socket_handler.close()
        self.notifier.stop()
        self.chart_poster.stop()
        self.chart_poster.renderer.close()
