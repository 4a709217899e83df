"""The `loopbot` command: parses the arguments and dispatches to the subcommand; wiring.py builds the parts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import wiring
from config.database import database_problem
from config.loader import ConfigError, load_config
from config.settings import Settings, SettingsError, load_settings, webhook_warnings
from config.teams import LoopbotConfig


def _database(settings: Settings) -> list[str]:
    # Every command that loads the config uses the database: an unreachable or misspelt one is a
    # line beside the other problems, not a traceback from the first query.
    problem = database_problem(settings.database_url)
    return [f"environment: DATABASE_URL: {problem}"] if problem else []


def _load() -> tuple[Settings, LoopbotConfig]:
    """Settings, database and YAML, or exit 2 printing every problem (never a secret)."""
    errors: list[str] = []
    settings = config = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        errors += exc.errors
    else:
        errors += _database(settings)
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
        found = wiring.check_slack(settings, config)
        if found.errors:
            print("\n".join(found.errors), file=sys.stderr)
            return 2
        for line in found.warnings:
            print(line, file=sys.stderr)
        slack = found.summary or slack
    for line in webhook_warnings(settings, config.sources):
        print(f"warning: {line}", file=sys.stderr)
    teams = f"{len(config.teams)} team(s): {', '.join(config.teams)}"
    print(f"{settings.config_path}: OK — {teams}; {slack}; {mode}")
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if errors := _database(settings):
        print("\n".join(errors), file=sys.stderr)
        return 2
    print(f"database at revision {wiring.upgrade_database(settings)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.feedback.importer import ImportFailed

    settings, config = _load()
    try:
        mapping = dict(
            _pair(p, "--map", "COLUMN=FIELD", "'Review Score=score'", right=True) for p in args.map
        )
        constants = dict(
            _pair(p, "--set", "FIELD=VALUE", "metric=csat", right=False) for p in args.set
        )
        report = wiring.import_csv(
            settings,
            config,
            Path(args.file),
            source=args.source,
            mapping=mapping,
            constants=constants,
            timezone=args.timezone,
            encoding=args.encoding,
            dry_run=args.dry_run,
        )
    except (ValueError, ImportFailed) as exc:
        print(exc, file=sys.stderr)
        return 2
    verb = "would store" if args.dry_run else "stored"
    print(
        f"{args.file}: {report.rows:,} rows read, {verb} {report.stored:,}, "
        f"{report.updated:,} updated, {report.duplicates:,} duplicates, "
        f"{report.rejected:,} rejected, "
        f"{len(report.cases):,} cases opened"
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
    return wiring.serve(settings, config)


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Everything on this machine, no Slack workspace: the emulator, demo data, a live trickle, a page."""
    from sandbox.run import serve_sandbox

    return serve_sandbox(args.host, args.port)


def cmd_digest(args: argparse.Namespace) -> int:
    """Print a team's huddle digest now; with --post, put it in the team's channel through the outbox."""
    from bot.errors import NotFound

    settings, config = _load()
    if args.post and settings.slack_bot_token is None:
        print(
            "--post needs SLACK_BOT_TOKEN (and SLACK_API_URL for anything but Slack itself)",
            file=sys.stderr,
        )
        return 2
    try:
        if not args.post:
            print(wiring.digest_text(settings, config, args.team))
            return 0
        state, error = wiring.post_digest(settings, config, args.team)
    except NotFound as exc:
        print(exc.message.replace("`", ""), file=sys.stderr)
        return 2
    if state == "delivered":
        print(f"posted to {config.teams[args.team].channel}")
        return 0
    why = error or "Slack did not answer in time; it stays in the outbox"
    print(f"not posted ({state}): {why}", file=sys.stderr)
    return 1


def _privacy():  # noqa: ANN202 - bot.privacy.service's Privacy
    """The privacy service on the configured database, brought up to date first; built from wiring's core
    here because wiring.py is at the house's 400 lines (docs/decisions.md)."""
    from bot.privacy.service import Privacy

    settings, config = _load()
    wiring.upgrade_database(settings)
    core = wiring.build_core(settings, config)
    return Privacy(core.sessions, config, reads=core.reads)


def cmd_purge(_args: argparse.Namespace) -> int:
    """Remove customer data past retention_days now: the daily job's purge, run by hand."""
    from bot.clock import utcnow
    from bot.privacy.audit import CLI

    retention, now = _privacy().retention, utcnow()
    purged = retention.purge(now, actor=CLI)
    days, cutoff = retention.config.retention_days, retention.cutoff(now)
    print(f"purged what is older than {days} days (before {cutoff:%Y-%m-%d %H:%M}Z): {purged}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase one customer; the audit log records it without the identifier."""
    from bot.privacy.audit import CLI

    customer = (args.customer or "").strip()
    if not customer:
        print("loopbot erase: name the customer: --customer ID", file=sys.stderr)
        return 2
    erased = _privacy().erasure.erase(customer, actor=CLI, source=CLI)
    print(f"erased: {erased}")
    if erased.cases:
        print("their case messages in Slack are updated through the outbox (by `loopbot run`)")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit log, one entry a line, oldest first."""
    from bot.privacy.audit import parse_since

    try:
        since = parse_since(args.since) if args.since is not None else None
    except ValueError as exc:
        print(f"loopbot audit: {exc}", file=sys.stderr)
        return 2
    for entry in _privacy().audit.entries(since):
        print(entry.line())
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    """Try the parked posts now (after fixing what parked them) and say what became of them."""
    from bot.delivery.deliveries import Deliveries
    from bot.delivery.retry import retry_now

    settings, config = _load()
    wiring.upgrade_database(settings)
    core = wiring.build_core(settings, config)
    done = retry_now(Deliveries(core.sessions, core.reads), wait_s=args.wait)
    for p in done.before:
        print(f"{p.waits}: {p.posts} post(s) parked since {p.since:%Y-%m-%d %H:%M}Z ({p.error})")
    for p in done.sent:
        print(f"sent: {p.waits} (Slack took the oldest; the rest follow in order)")
    untried = {p.scope for p in done.untried}
    for p in done.after:
        if p.scope in untried:
            print(
                f"not tried yet: {p.waits}: is `loopbot run` running? It tries them when it starts"
            )
        else:
            print(f"still parked: {p.waits} ({p.error}): {p.fix}", file=sys.stderr)
    if not done.before:
        print("nothing is parked")
    return 1 if done.after else 0


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
    sub.add_parser(
        "purge", help="remove customer data past retention_days now, as the daily job does"
    ).set_defaults(func=cmd_purge)
    era = sub.add_parser(
        "erase", help="erase a customer: responses deleted, every copy in cases and posts scrubbed"
    )
    era.add_argument("--customer", metavar="ID", help="the identifier as the survey tool sent it")
    era.set_defaults(func=cmd_erase)
    aud = sub.add_parser(
        "audit", help="print who looked up customers, showed other teams' cases, exported, erased"
    )
    aud.add_argument(
        "--since", metavar="DATE", help="from this day (YYYY-MM-DD, UTC) or ISO 8601 time on"
    )
    aud.set_defaults(func=cmd_audit)
    outbox = sub.add_parser("outbox", help="the posts waiting to go to Slack").add_subparsers(
        dest="outbox_command", required=True, metavar="ACTION"
    )
    retry = outbox.add_parser(
        "retry", help="try the posts parked for a token, scope or channel problem now"
    )
    retry.add_argument(
        "--wait",
        type=float,
        default=15,
        metavar="SECONDS",
        help="how long to watch the running bot try them (default 15)",
    )
    retry.set_defaults(func=cmd_outbox_retry)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
