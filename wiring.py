"""The composition root: builds the core, the Slack app, the jobs and the HTTP server from settings and the YAML.

`loopbot` (the CLI), `loopbot sandbox` and the benchmarks build through here; nothing else wires parts together.
Imports run one way (docs/architecture.md): this module may import every layer, and none imports it but those.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.silences import Silences
from bot.cases.lifecycle import Cases
from bot.cases.model import Observer
from bot.feedback.ingest import Ingestor
from config.settings import Settings, webhook_warnings
from config.teams import LoopbotConfig
from storage import migrate
from storage.db import make_engine, make_read_sessions, make_sessions

if TYPE_CHECKING:
    import uvicorn
    from fastapi import APIRouter
    from slack_bolt import App

    from bot.charts.worker import Renderer
    from bot.delivery.deliveries import Deliveries
    from bot.prometheus import Prometheus
    from bot.reports.digest import Digests
    from bot.slack.delivery.worker import OutboxWorker
    from bot.slack.socket import SlackConnection
    from jobs.context import JobContext
    from jobs.scheduler import Scheduler

log = logging.getLogger("loopbot")


@dataclass
class Core:
    engine: Engine
    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]  # units that only read: no write lock on SQLite
    cases: Cases
    ingestor: Ingestor
    silences: Silences | None = None  # built from the others when not given

    def __post_init__(self) -> None:
        if self.silences is None:
            self.silences = Silences(self.sessions, self.cases.config, reads=self.reads)


def build_core(settings: Settings, config: LoopbotConfig, observer: Observer | None = None) -> Core:
    engine = make_engine(settings.database_url)
    sessions, reads = make_sessions(engine), make_read_sessions(engine)
    cases = Cases(sessions, config, observer, reads=reads)
    return Core(engine, sessions, reads, cases, Ingestor(sessions, config))


def job_context(
    core: Core,
    config: LoopbotConfig,
    notify: Callable[[], None] = lambda: None,
    opened: Callable[[str, str], None] = lambda team, kind: None,
) -> JobContext:
    from bot.alerts.action_escalations import ActionEscalations
    from bot.alerts.escalations import Escalations
    from bot.alerts.thresholds import Thresholds
    from bot.cases.verification import Verifier
    from bot.delivery.retention import Retention
    from jobs.context import JobContext

    return JobContext(
        sessions=core.sessions,
        reads=core.reads,
        config=config,
        thresholds=Thresholds(core.sessions, config, core.cases),
        escalations=Escalations(core.sessions, config, core.cases, reads=core.reads),
        retention=Retention(core.sessions, config),
        verifier=Verifier(core.sessions, config, reads=core.reads),
        action_escalations=ActionEscalations(core.sessions, config, reads=core.reads),
        notify=notify,
        opened=opened,
        silences=core.silences,
    )


@dataclass
class Slack:
    """Loopbot in Slack: the App with every handler registered, the outbox's workers, and the connection."""

    app: App
    posts: OutboxWorker  # every kind of post but charts (bot.slack.delivery.lanes)
    charts: OutboxWorker  # charts only: one that takes seconds to draw holds up no case message
    renderer: Renderer  # the charts' worker process
    router: APIRouter | None  # HTTP mode: POST /slack/events
    app_token: str | None = None  # Socket Mode
    connection: SlackConnection | None = None

    def start(self) -> None:
        from bot.slack.socket import SlackConnection

        self.posts.start()
        self.renderer.warm()  # the worker process imports matplotlib now, not at a chart
        self.charts.start()
        # Slack is reached in the background: an unreachable Slack or a refused token must not keep the
        # API and /healthz from serving.
        self.connection = SlackConnection(self.app, self.app_token)
        self.connection.start()

    def state(self) -> str | None:
        """For /healthz: Socket Mode's `connected`, `connecting` or why not; None in HTTP mode."""
        if self.connection is None:
            return "connecting" if self.app_token else None
        return self.connection.state()

    def stop(self) -> None:
        """Stop taking new Slack requests, then let the workers finish the post in hand."""
        if self.connection is not None:
            self.connection.close()
        self.posts.stop()
        self.charts.stop()
        self.renderer.close()


def build_slack(
    settings: Settings,
    config: LoopbotConfig,
    core: Core,
    deliveries: Deliveries,
    prometheus: Prometheus,
    digests: Digests,
) -> Slack:
    from bot.charts.service import Charts
    from bot.charts.worker import Renderer
    from bot.reports.customer import Customers
    from bot.reports.overview import Overview
    from bot.reports.stats import Stats
    from bot.slack.app import SlackServices, create_app, signing_secret
    from bot.slack.client import make_client
    from bot.slack.delivery.lanes import charts_worker, posts_worker
    from bot.slack.http import slack_router
    from handlers import actions, commands, home, views

    client = make_client(settings, on_error=prometheus.slack_error)

    def failed(kind: str) -> None:
        prometheus.posts_failed.labels(kind).inc()

    posts = posts_worker(
        deliveries,
        core.cases,
        config,
        client,
        reads=core.reads,
        silences=core.silences,
        digests=digests,
        command=settings.command,
        on_failed=failed,
    )
    charts, renderer = Charts(core.sessions, core.reads, config), Renderer()
    chart_worker = charts_worker(
        deliveries, config, client, charts=charts, renderer=renderer, on_failed=failed
    )
    services = SlackServices(
        config=config,
        cases=core.cases,
        overview=Overview(core.reads, config),
        command=settings.command,
        notify=posts.wake,
        digests=digests,
        stats=Stats(core.reads, config),
        charts=charts,
        draw=chart_worker.wake,
        silences=core.silences,
        customers=Customers(core.reads, config),
    )
    app = create_app(settings, client)
    for module in (commands, actions, views, home):
        module.register(app, services)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    router = None if app_token else slack_router(app, signing_secret(settings))
    return Slack(app, posts, chart_worker, renderer, router, app_token=app_token)


def serve(
    settings: Settings,
    config: LoopbotConfig,
    *,
    routers: Sequence[APIRouter] = (),
    started: Callable[[Core], None] | None = None,
) -> int:
    """`loopbot run`: the core, Slack, the scheduler and the HTTP server, until SIGTERM or Ctrl-C.

    `loopbot sandbox` runs the same, with its page's routes and its live trickle (`started`) added.
    """
    import uvicorn

    from bot.api.app import create_api
    from bot.delivery.deliveries import Deliveries
    from bot.prometheus import Prometheus
    from bot.reports.digest import Digests
    from jobs.scheduler import Scheduler

    for line in webhook_warnings(settings, config.sources):
        log.warning(line)
    prometheus = Prometheus()
    core = build_core(settings, config, observer=prometheus.case_changed)
    migrate.upgrade(core.engine)
    deliveries = Deliveries(core.sessions, core.reads)
    prometheus.watch_outbox(deliveries.counts, deliveries.parked)
    digests = Digests(core.reads, config)
    slack = None
    if settings.slack_bot_token is not None:
        slack = build_slack(settings, config, core, deliveries, prometheus, digests)
    else:
        log.warning(
            "SLACK_BOT_TOKEN is not set: ingestion only; cases wait in the outbox until it is"
        )
    scheduler = Scheduler(
        job_context(
            core,
            config,
            notify=slack.posts.wake if slack is not None else lambda: None,
            opened=lambda team, kind: prometheus.cases_opened.labels(team, kind).inc(),
        )
    )
    core.ingestor.on_stored = scheduler.after_ingest
    slack_routes = [slack.router] if slack is not None and slack.router is not None else []
    api = create_api(
        settings,
        core.engine,
        core.ingestor,
        prometheus,
        deliveries=deliveries,
        routers=[*slack_routes, *routers],
        slack_state=slack.state if slack is not None else None,
    )
    if settings.ingest_token is None:
        log.warning("LOOPBOT_INGEST_TOKEN is not set: POST /api/feedback answers 503 until it is")
    try:
        if slack is not None:
            slack.start()
        scheduler.start()
    except BaseException:
        # The workers' threads would keep a process alive that serves nothing: stop them, then fail.
        _stop(scheduler, slack)
        raise
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode, Slack requests at /slack/events"
    log.info(
        "Loopbot serving %d team(s) on http://%s:%d (%s)",
        len(config.teams),
        settings.host,
        settings.port,
        mode if slack is not None else "no Slack",
    )
    server = uvicorn.Server(
        uvicorn.Config(
            api, host=settings.host, port=settings.port, log_config=None, access_log=False
        )
    )
    if started is not None:
        # Once the port is open: a page opened at the sandbox's announcement must not be refused.
        threading.Thread(
            target=_once_listening,
            args=(server, lambda: started(core)),
            name="loopbot-started",
            daemon=True,
        ).start()
    # uvicorn handles SIGTERM/SIGINT: stops accepting, finishes in-flight requests, then restores the
    # previous handler and re-raises the signal. With this no-op as the previous handler, a clean stop
    # ends in exit status 0 instead of death by signal.
    signal.signal(signal.SIGTERM, lambda *_: None)
    # What start-up built lives as long as the process: frozen out of the collector's sight, an oldest-
    # generation collection under load takes a few ms instead of stalling every request while it walks
    # every object start-up made.
    gc.collect()
    gc.freeze()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(scheduler, slack)
    if not server.started:  # stopped before serving (a taken port exits inside run())
        log.error("Loopbot stopped before serving on http://%s:%d", settings.host, settings.port)
        return 3
    log.info("Loopbot stopped")
    return 0


def _stop(scheduler: Scheduler, slack: Slack | None) -> None:
    scheduler.stop()
    if slack is not None:
        slack.stop()


def _once_listening(server: uvicorn.Server, then: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    then()


def deliver(
    settings: Settings, config: LoopbotConfig, core: Core, key: str, timeout_s: float = 60
) -> tuple[str | None, str | None]:
    """Deliver the outbox until the post `key` is in Slack (a running `loopbot run` may deliver it
    first): its final state and, when not delivered, why."""
    from bot.delivery.deliveries import Deliveries
    from bot.slack.client import make_client
    from bot.slack.delivery.lanes import posts_worker

    deliveries = Deliveries(core.sessions, core.reads)
    worker = posts_worker(
        deliveries,
        core.cases,
        config,
        make_client(settings),
        reads=core.reads,
        command=settings.command,
    )
    deadline = time.monotonic() + timeout_s
    while (state := deliveries.post_state(key)) not in ("delivered", "failed", "parked"):
        if time.monotonic() >= deadline:
            break
        if worker.deliver_due() == 0:
            time.sleep(0.25)
    return state, None if state == "delivered" else deliveries.post_error(key)


# -- the other subcommands' parts ---------------------------------------------------------------


def check_slack(settings: Settings, config: LoopbotConfig):  # noqa: ANN201 - bot.slack.preflight's Found
    """`loopbot check-config` with a token: the token and each channel, asked of Slack."""
    from bot.slack.client import make_client
    from bot.slack.preflight import check_slack

    return check_slack(make_client(settings), config, settings.slack_api_url, settings.database_url)


def upgrade_database(settings: Settings) -> str | None:
    """`loopbot db upgrade`: apply the migrations; the revision the database is at now."""
    engine = make_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def import_csv(settings: Settings, config: LoopbotConfig, file: Path, *, dry_run: bool, **options):  # noqa: ANN003, ANN201
    """`loopbot import`: the CSV through the ingestion path, with a progress bar on a terminal."""
    from bot.feedback.importer import CsvImport
    from bot.feedback.progress import ProgressBar

    core = build_core(settings, config)
    migrate.upgrade(core.engine)
    return CsvImport(core.ingestor, progress=ProgressBar(), **options).run(file, dry_run=dry_run)


def digest_text(settings: Settings, config: LoopbotConfig, team_key: str) -> str:
    """`loopbot digest TEAM`: the team's huddle digest now, as plain text."""
    from bot.clock import utcnow
    from bot.reports.digest import Digests
    from bot.slack.blocks.digest import digest_message
    from bot.slack.blocks.plain import plain_text

    core = build_core(settings, config)
    migrate.upgrade(core.engine)
    digests, now = Digests(core.reads, config), utcnow()
    team = digests.team(team_key)
    return plain_text(digest_message(digests.for_team(team.key, now), team, now=now))


def post_digest(
    settings: Settings, config: LoopbotConfig, team_key: str
) -> tuple[str | None, str | None]:
    """`loopbot digest TEAM --post`: the digest through the outbox, delivered before returning."""
    from bot.cases.permissions import named_team
    from bot.clock import utcnow
    from bot.reports.digest import enqueue_digest

    core = build_core(settings, config)
    migrate.upgrade(core.engine)
    team, now = named_team(config, team_key), utcnow()
    with core.sessions.begin() as s:
        key = enqueue_digest(s, team, at=now, now=now)
    return deliver(settings, config, core, key)
