"""The bolt App factory: one App per process, built from settings and services, with one error boundary."""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.kwargs_injection import Args
from slack_sdk import WebClient

from bot.alerts.silences import Silences
from bot.cases.lifecycle import Cases
from bot.charts.service import Charts
from bot.errors import UserFacingError
from bot.privacy.audit import Audit
from bot.reports.customer import Customers
from bot.reports.digest import Digests
from bot.reports.overview import Overview
from bot.reports.stats import Stats
from bot.slack.blocks.notice import error_text
from config.settings import Settings
from config.teams import LoopbotConfig
from storage.timeouts import UNAVAILABLE, request_scope

log = logging.getLogger("loopbot.slack")


@dataclass(frozen=True)
class SlackServices:
    """What the Slack handlers may call: the core, never the database."""

    config: LoopbotConfig
    cases: Cases
    overview: Overview
    command: str  # the slash command's name, e.g. /feedback
    notify: Callable[[], None]  # wake the outbox worker: a post is waiting
    digests: Digests
    stats: Stats
    charts: Charts
    draw: Callable[[], None]  # tell the chart worker a chart is waiting in the outbox
    silences: Silences
    customers: Customers
    audit: Audit = field(init=False)  # who looked a customer up or at another team's case

    def __post_init__(self) -> None:
        # Built from the others, as Core builds its silences: it writes where the cases are.
        object.__setattr__(self, "audit", Audit(self.cases.sessions, self.config))


def signing_secret(settings: Settings) -> str:
    """What bolt and bot.slack.http verify requests with ("" in Socket Mode, which needs none)."""
    secret = settings.slack_signing_secret
    return secret.get_secret_value() if secret else ""


def create_app(settings: Settings, client: WebClient) -> App:
    """The App without listeners: the composition root (wiring.py) has each handler module register its own."""
    return App(
        client=client,
        signing_secret=signing_secret(settings),
        # Start-up must not depend on Slack being reachable; `loopbot run` checks the token and logs.
        token_verification_enabled=False,
        # The thread that dispatches a request runs its listener and answers once it returns, instead of
        # handing it to a listener thread and polling every 10 ms for its ack(): an Acknowledge is answered
        # once it is committed, and a list without a hand-off. Every listener's work is a few milliseconds
        # (DESIGN rule 13), far inside Slack's 3 s.
        process_before_response=True,
        # An unknown action or event gets a plain 404 rather than a warning per request.
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("loopbot.bolt"),
    )


def guarded(listener: Callable[..., None]) -> Callable[[Args], None]:
    """The one error boundary, wrapped around every listener: a user mistake becomes an ephemeral message
    saying what to do; anything else is logged with an id the person is shown.

    Not bolt's @app.error: when a listener raises after ack() (the usual case, since handlers ack first),
    bolt resets the ack and Slack gets no answer for 3 seconds, then a 404.
    """
    names = list(inspect.signature(listener).parameters)

    @functools.wraps(listener)
    def run(args: Args) -> None:
        try:
            # Slack waits 3 s for the answer: each database wait is bounded (storage.timeouts), so a frozen
            # database still gets the person a "try again" in time.
            with request_scope():
                listener(**{name: getattr(args, name) for name in names})
        except Exception as error:  # noqa: BLE001 - this is the boundary
            message = _message(error, args.body)
            if args.ack.response is None and args.command:
                args.ack(
                    text=message, response_type="ephemeral"
                )  # a command's answer rides on its ack
                return
            if args.ack.response is None and (block := _first_input(args.body)):
                # A modal has no response_url: the message goes under its first input, the modal stays
                # open with what the person typed, and Submit again is the retry.
                args.ack(response_action="errors", errors={block: message})
                return
            if args.ack.response is None:
                args.ack()
            if args.respond is not None:
                args.respond(text=message, response_type="ephemeral", replace_original=False)

    # bolt reads a listener's parameter names through __wrapped__; this one takes `args`.
    del run.__wrapped__
    return run


def _first_input(body: dict[str, Any]) -> str | None:
    """A submitted modal's first input block, where its errors can be shown."""
    if body.get("type") != "view_submission":
        return None
    blocks = (body.get("view") or {}).get("blocks", [])
    return next((b.get("block_id") for b in blocks if b.get("type") == "input"), None)


def _message(error: Exception, body: dict[str, Any]) -> str:
    if isinstance(error, UserFacingError):
        return f":warning: {error_text(error)}"
    if isinstance(error, UNAVAILABLE):
        # One line, no traceback: during an outage every click would add one (the outage is logged once,
        # by storage.timeouts).
        cause = str(getattr(error, "orig", None) or error).strip().splitlines() or [""]
        log.warning("a Slack %s found the database unavailable: %s", _kind(body), cause[0][:200])
        return (
            ":hourglass: Loopbot cannot reach its database right now, so this did not go through. "
            "Try again in a minute."
        )
    incident = uuid.uuid4().hex[:8]
    log.error("error %s handling a Slack %s", incident, _kind(body), exc_info=error)
    return f":x: Something went wrong on Loopbot's side (error id `{incident}`). Try again in a moment."


def _kind(body: dict[str, Any]) -> str:
    return body.get("type") or "command"
