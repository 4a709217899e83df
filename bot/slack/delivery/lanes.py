"""The two outbox workers `loopbot run` runs: one for every kind of post but charts, one for charts only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.silences import Silences
from bot.cases.lifecycle import Cases
from bot.charts.request import CHART_KIND
from bot.charts.service import Charts
from bot.charts.worker import Renderer
from bot.clock import utcnow
from bot.delivery.deliveries import Deliveries
from bot.delivery.outbox import Lane
from bot.reports.digest import Digests
from bot.reports.weekly import Weekly
from bot.slack.delivery.actions import ActionEscalationPost, ActionEvent, ActionOpen
from bot.slack.delivery.case_event import CaseEvent
from bot.slack.delivery.case_open import CaseOpen
from bot.slack.delivery.chart import ChartPost
from bot.slack.delivery.digest import DigestPost
from bot.slack.delivery.escalation import EscalationPost
from bot.slack.delivery.post import PlainPost
from bot.slack.delivery.silences import SilenceEndPost, SilenceStartPost
from bot.slack.delivery.weekly import WeeklyPost
from bot.slack.delivery.worker import OutboxWorker
from bot.slack.preflight import channel_keys
from config.teams import LoopbotConfig


def posts_worker(
    deliveries: Deliveries,
    cases: Cases,
    config: LoopbotConfig,
    client: WebClient,
    *,
    reads: sessionmaker[Session],
    digests: Digests | None = None,
    silences: Silences | None = None,
    command: str = "/feedback",
    clock: Callable[[], datetime] = utcnow,
    on_failed: Callable[[str], None] | None = None,
) -> OutboxWorker:
    """Case and corrective-action messages and their threads, digests, weekly summaries, escalation posts and
    silences' announcements."""
    silences = silences or Silences(cases.sessions, config, reads=reads)
    handlers = [
        CaseOpen(cases, config, client),
        CaseEvent(cases, config, client),
        DigestPost(digests or Digests(reads, config), config, client),
        WeeklyPost(Weekly(reads, config), config, client, command),
        EscalationPost(cases, config, client, command),
        ActionOpen(cases.actions, config, client),
        ActionEvent(cases.actions, config, client),
        ActionEscalationPost(cases.actions, config, client, command),
        SilenceStartPost(silences, config, client, command),
        SilenceEndPost(silences, config, client, command),
        PlainPost(client),
    ]
    return OutboxWorker(
        deliveries,
        handlers,
        lane=Lane(excluding=(CHART_KIND,)),
        name="loopbot-outbox",
        clock=clock,
        on_failed=on_failed,
        channels=configured(config),
    )


def charts_worker(
    deliveries: Deliveries,
    config: LoopbotConfig,
    client: WebClient,
    *,
    charts: Charts,
    renderer: Renderer,
    clock: Callable[[], datetime] = utcnow,
    on_failed: Callable[[str], None] | None = None,
) -> OutboxWorker:
    """Charts on a lane and thread of their own: one that takes seconds to draw holds up neither case
    messages nor anyone's command."""
    return OutboxWorker(
        deliveries,
        [ChartPost(charts, renderer, config, client)],
        lane=Lane(only=(CHART_KIND,)),
        name="loopbot-charts",
        # One claim at a time: charts take a second or more each, and a batch claimed together could outlive
        # its 60-second lease while waiting its turn, so another replica would draw the same chart again.
        batch=1,
        # Charts wait for a wake-up from the command that asks for one; polling is only the fallback.
        poll_s=2,
        clock=clock,
        on_failed=on_failed,
        channels=configured(config),
    )


def configured(config: LoopbotConfig) -> set[str]:
    """The channels whose errors park a post: the YAML's, which an operator fixes (check-config checks
    them); a chart asked for elsewhere fails at once and its asker is told why."""
    return {channel for _, channel in channel_keys(config)}
