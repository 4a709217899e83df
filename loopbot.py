"""The `loopbot` command: builds settings and config once, wires the parts, runs a subcommand."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.lifecycle import Cases, Observer
from bot.feedback.ingest import Ingestor
from config.loader import ConfigError, load_config
from config.settings import Settings, SettingsError, load_settings
from config.teams import LoopbotConfig
from storage import migrate
from storage.db import make_engine, make_read_sessions, make_sessions

if TYPE_CHECKING:
    import uvicorn
    from fastapi import APIRouter

    from bot.reports.digest import Digests
    from jobs.context import JobContext

log = logging.getLogger("loopbot")


@dataclass
class Core:
    engine: Engine
    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]  # units that only read: no write lock on SQLite
    cases: Cases
    ingestor: Ingestor


def build_core(settings: Settings, config: LoopbotConfig, observer: Observer | None = None) -> Core:
    engine = make_engine(settings.database_url)
    sessions, reads = make_sessions(engine), make_read_sessions(engine)
    cases = Cases(sessions, config, observer, reads=reads)
    return Core(engine, sessions, reads, cases, Ingestor(sessions, config, cases))


def job_context(
    core: Core,
    config: LoopbotConfig,
    notify: Callable[[], None] = lambda: None,
    digests: Digests | None = None,
    command: str = "/feedback",
    opened: Callable[[str, str], None] = lambda team, kind: None,
) -> JobContext:
    from bot.alerts.escalations import Escalations
    from bot.alerts.thresholds import Thresholds
    from bot.delivery.retention import Retention
    from bot.reports.digest import Digests
    from bot.reports.weekly import Weekly
    from bot.slack.blocks.escalation import leaders_post
    from jobs.context import JobContext

    return JobContext(
        sessions=core.sessions,
        reads=core.reads,
        config=config,
        digests=digests or Digests(core.reads, config),
        weekly=Weekly(core.reads, config),
        thresholds=Thresholds(core.sessions, config, core.cases),
        escalations=Escalations(
            core.sessions,
            config,
            core.cases,
            leaders_post=leaders_post(config, command),
            reads=core.reads,
        ),
        retention=Retention(core.sessions, config),
        notify=notify,
        opened=opened,
    )


def _load() -> tuple[Settings, LoopbotConfig]:
    """Settings and YAML, or exit 2 printing every problem (never a secret)."""
    errors: list[str] = []
    settings = config = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        errors += exc.errors
    # Report the YAML's problems too when the environment has some: all problems in one go.
    config_path = (
        settings.config_path
        if settings
        else os.environ.get("LOOPBOT_CONFIG", "config/loopbot.yaml")
    )
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        errors += exc.errors
    if errors or settings is None or config is None:
        print("\n".join(errors), file=sys.stderr)
        raise SystemExit(2)
    return settings, config


def cmd_check_config(_args: argparse.Namespace) -> int:
    settings, config = _load()
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    slack = "Slack tokens set" if settings.slack_bot_token else "no Slack token (ingestion only)"
    if settings.slack_bot_token is not None:
        from bot.slack.client import make_client
        from bot.slack.preflight import check_slack

        found = check_slack(make_client(settings), config, settings.slack_api_url)
        if found.errors:
            print("\n".join(found.errors), file=sys.stderr)
            return 2
        for line in found.warnings:
            print(line, file=sys.stderr)
        slack = found.summary or slack
    print(
        f"{settings.config_path}: OK — {len(config.teams)} team(s): {', '.join(config.teams)}; {slack}; {mode}"
    )
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    settings = _load_settings_only()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    print(f"database at revision {migrate.current_revision(engine)}")
    return 0


def _load_settings_only() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_import(args: argparse.Namespace) -> int:
    from bot.feedback.importer import CsvImport, ImportFailed
    from bot.feedback.progress import ProgressBar

    settings, config = _load()
    try:
        mapping = dict(
            _pair(p, "--map", "COLUMN=FIELD", "'Review Score=score'", right=True) for p in args.map
        )
        constants = dict(
            _pair(p, "--set", "FIELD=VALUE", "metric=csat", right=False) for p in args.set
        )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    core = build_core(settings, config)
    migrate.upgrade(core.engine)
    try:
        job = CsvImport(
            core.ingestor,
            source=args.source,
            mapping=mapping,
            constants=constants,
            timezone=args.timezone,
            encoding=args.encoding,
            progress=ProgressBar(),
        )
        report = job.run(Path(args.file), dry_run=args.dry_run)
    except ImportFailed as exc:
        print(exc, file=sys.stderr)
        return 2
    verb = "would store" if args.dry_run else "stored"
    print(
        f"{args.file}: {report.rows:,} rows read, {verb} {report.stored:,}, {report.duplicates:,} duplicates, "
        f"{report.rejected:,} rejected, {len(report.cases):,} cases opened"
    )
    if report.ignored_columns:
        print(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report.rejected_path:
        print(
            f"rejected rows with line numbers and reasons: {report.rejected_path}", file=sys.stderr
        )
    return 1 if report.rejected else 0


def _pair(text: str, option: str, shape: str, example: str, *, right: bool) -> tuple[str, str]:
    # A column name may itself hold "=", a value too: split where the other side cannot have one.
    left, sep, value = text.rpartition("=") if right else text.partition("=")
    if not sep or not left.strip() or not value.strip():
        raise ValueError(f"{option} {text!r}: write it as {shape}, e.g. {option} {example}")
    return left.strip(), value.strip()


def cmd_run(_args: argparse.Namespace) -> int:
    from bot.logs import configure

    settings, config = _load()
    configure(settings.log_format)
    return serve(settings, config)


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
    from bot.charts.service import Charts
    from bot.delivery.deliveries import Deliveries
    from bot.prometheus import Metrics
    from bot.reports.digest import Digests
    from bot.reports.overview import Overview
    from bot.reports.stats import Stats
    from jobs.scheduler import Scheduler

    metrics = Metrics()
    core = build_core(settings, config, observer=metrics.case_changed)
    migrate.upgrade(core.engine)
    deliveries = Deliveries(core.sessions, core.reads)
    metrics.watch_outbox(deliveries.counts)
    digests = Digests(core.reads, config)
    slack = None
    if settings.slack_bot_token is not None:
        from bot.slack.runtime import SlackRuntime

        slack = SlackRuntime.build(
            settings,
            config,
            core.cases,
            Overview(core.reads, config),
            deliveries,
            metrics,
            digests,
            Stats(core.reads, config),
            Charts(core.sessions, core.reads, config),
        )
    else:
        log.warning(
            "SLACK_BOT_TOKEN is not set: ingestion only; cases wait in the outbox until a token is set"
        )
    scheduler = Scheduler(
        job_context(
            core,
            config,
            notify=slack.notifier.wake if slack is not None else lambda: None,
            digests=digests,
            command=settings.command,
            opened=lambda team, kind: metrics.cases_opened.labels(team, kind).inc(),
        )
    )
    core.ingestor.on_stored = scheduler.after_ingest
    slack_routes = [slack.router] if slack is not None and slack.router is not None else []
    api = create_api(
        settings,
        core.engine,
        core.ingestor,
        metrics,
        failed_posts=deliveries.recently_failed,
        routers=[*slack_routes, *routers],
    )
    if settings.ingest_token is None:
        log.warning("LOOPBOT_INGEST_TOKEN is not set: POST /api/feedback answers 503 until it is")
    if slack is not None:
        slack.start()
    scheduler.start()
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
    # generation collection under load takes a few ms instead of stalling every request for ~100 ms.
    gc.collect()
    gc.freeze()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        if slack is not None:
            slack.stop()
    if (
        not server.started
    ):  # stopped before serving (uvicorn.run exits 3 here too); a taken port exits inside run()
        log.error("Loopbot stopped before serving on http://%s:%d", settings.host, settings.port)
        return 3
    log.info("Loopbot stopped")
    return 0


def _once_listening(server: uvicorn.Server, then: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    then()


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Everything on this machine, no Slack workspace: the emulator, demo data, a live trickle, and a web page."""
    import tempfile

    from bot.logs import configure
    from sandbox import run as sandbox
    from sandbox.demo.config import DISPLAY_NAMES, PERSONAS
    from sandbox.web import sandbox_router

    configure("text")
    trickles: list[sandbox.Trickle] = []

    def started(core: Core) -> None:
        sandbox.post_digests(core.sessions, core.reads, box.config)
        trickles.append(sandbox.Trickle(core.ingestor, box.config))
        trickles[-1].start()
        print(f"Loopbot sandbox: open http://{args.host}:{args.port}/sandbox", flush=True)

    with tempfile.TemporaryDirectory(prefix="loopbot-sandbox-") as data:
        box = sandbox.prepare(Path(data), args.port, args.host)
        try:
            print(
                "Loopbot sandbox: generating 60 days of demo feedback (a few seconds)…", flush=True
            )
            seeded = sandbox.seed_history(box)
            log.info(
                "sandbox: %s responses, %s cases seeded",
                f"{seeded.feedback:,}",
                f"{seeded.cases:,}",
            )
            router = sandbox_router(
                box.emulator, personas=PERSONAS, channels=box.channels, display_names=DISPLAY_NAMES
            )
            return serve(box.settings, box.config, routers=[router], started=started)
        finally:
            for trickle in trickles:
                trickle.stop()
            box.emulator.stop()


def cmd_digest(args: argparse.Namespace) -> int:
    """Print a team's huddle digest now; with --post, put it in the team's channel through the outbox."""
    from bot.clock import utcnow
    from bot.delivery import outbox
    from bot.errors import NotFound
    from bot.reports.digest import Digests
    from bot.slack.blocks.digest import digest_message
    from bot.slack.blocks.plain import plain_text

    settings, config = _load()
    core = build_core(settings, config)
    migrate.upgrade(core.engine)
    digests, now = Digests(core.reads, config), utcnow()
    try:
        team = digests.team(args.team)
    except NotFound as exc:
        print(exc.message.replace("`", ""), file=sys.stderr)
        return 2
    message = digest_message(digests.for_team(team.key, now), team, now=now)
    if not args.post:
        print(plain_text(message))
        return 0
    if settings.slack_bot_token is None:
        print(
            "--post needs SLACK_BOT_TOKEN (and SLACK_API_URL for anything but Slack itself)",
            file=sys.stderr,
        )
        return 2
    key = f"digest:{team.key}:{now.isoformat()}"
    with core.sessions.begin() as s:
        outbox.enqueue(s, key=key, kind="post", channel=team.channel, payload=message, now=now)
    return _deliver(settings, config, core, key)


def _deliver(
    settings: Settings, config: LoopbotConfig, core: Core, key: str, timeout_s: float = 60
) -> int:
    """Deliver the outbox until the post `key` is in Slack (a running `loopbot run` may deliver it first)."""
    import time

    from bot.delivery.deliveries import Deliveries
    from bot.slack.client import make_client
    from bot.slack.notifier import Notifier

    deliveries = Deliveries(core.sessions, core.reads)
    notifier = Notifier(deliveries, core.cases, config, make_client(settings))
    deadline = time.monotonic() + timeout_s
    while (state := deliveries.post_state(key)) not in (
        "delivered",
        "failed",
    ) and time.monotonic() < deadline:
        if notifier.deliver_due() == 0:
            time.sleep(0.25)
    if state == "delivered":
        print(f"posted to {config.teams[key.split(':')[1]].channel}")
        return 0
    print(
        f"not posted ({state}): {deliveries.post_error(key) or 'Slack did not answer in time; it stays in the outbox'}",
        file=sys.stderr,
    )
    return 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="loopbot", description="Close the loop on customer feedback in Slack."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot and its HTTP server").set_defaults(func=cmd_run)
    sub.add_parser(
        "check-config", help="validate the environment and the YAML config"
    ).set_defaults(func=cmd_check_config)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    imp = sub.add_parser("import", help="import a CSV export of survey responses")
    imp.add_argument("file", help="the CSV file (header line first)")
    imp.add_argument(
        "--source",
        default="csv",
        help="source name for rows without a source column (default: csv)",
    )
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read FIELD from COLUMN, e.g. --map 'Review Score=score' (repeatable)",
    )
    imp.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a value for rows that lack one, e.g. --set metric=csat --set team=delivery (repeatable)",
    )
    imp.add_argument(
        "--timezone",
        metavar="ZONE",
        help="read timestamps without an offset in this zone, e.g. America/Sao_Paulo",
    )
    imp.add_argument("--dry-run", action="store_true", help="validate and report; store nothing")
    imp.add_argument(
        "--encoding", default="utf-8-sig", help="file encoding (default utf-8, with or without BOM)"
    )
    imp.set_defaults(func=cmd_import)
    box = sub.add_parser(
        "sandbox", help="try Loopbot in a browser: a Slack stand-in, demo data, no workspace needed"
    )
    box.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LOOPBOT_PORT", "3000")),
        help="where the page and the API listen (default: LOOPBOT_PORT or 3000)",
    )
    box.add_argument(
        "--host", default="127.0.0.1", help="default 127.0.0.1: the sandbox is for this machine"
    )
    box.set_defaults(func=cmd_sandbox)
    dig = sub.add_parser(
        "digest", help="show a team's huddle digest now (--post: put it in the team's channel)"
    )
    dig.add_argument("team", help="the team key, as in the YAML")
    dig.add_argument(
        "--post", action="store_true", help="post it to the team's channel instead of printing it"
    )
    dig.set_defaults(func=cmd_digest)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
