"""Socket Mode: the same App over Slack's WebSocket, connected in the background while the HTTP server
keeps serving the API; retried with backoff until Slack answers, and reported on /healthz."""

from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("loopbot.socket")

FIRST_RETRY_S = 1.0
# Slack down or the network away: try again often enough to be back within a minute of it.
MAX_RETRY_S = 60.0
# A refused token rarely starts working by itself (a new one means a restart with a new
# SLACK_APP_TOKEN), so it is retried slowly: only a transient refusal on Slack's side recovers this way.
MAX_REFUSED_RETRY_S = 300.0
# What apps.connections.open answers for a token that is wrong, revoked or of the wrong kind.
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)


class SlackConnection:
    """Slack at start: auth.test's line in the log, then, with an app token, the Socket Mode connection.
    `start()` returns at once; `state()` says where the connection stands."""

    def __init__(self, app: App, app_token: str | None) -> None:
        self.app = app
        self.handler = (
            SocketModeHandler(app, app_token=app_token, web_client=app.client, logger=log)
            if app_token
            else None
        )
        self._stop = threading.Event()
        self._problem: str | None = None
        self._thread = threading.Thread(target=self._connect, name="loopbot-slack", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def state(self) -> str | None:
        """`connected`, `connecting`, or why the last attempt failed; None in HTTP mode."""
        if self.handler is None:
            return None
        if self.handler.client.is_connected():
            return "connected"
        # Once connected, the SDK's own monitor reconnects; until then, this thread's last failure.
        return self._problem or "connecting"

    def close(self) -> None:
        self._stop.set()
        if self.handler is not None:
            self.handler.close()

    def _connect(self) -> None:
        say_who(self.app.client)
        delay, attempts = FIRST_RETRY_S, 0
        while self.handler is not None and not self._stop.is_set():
            attempts += 1
            try:
                # A URL from apps.connections.open is good for one connection: never reuse a failed one's.
                self.handler.client.wss_uri = None
                self.handler.connect()
            except Exception as exc:  # noqa: BLE001 - any failure to connect is retried
                refused, problem = _problem(exc)
                limit = MAX_REFUSED_RETRY_S if refused else MAX_RETRY_S
                if problem != self._problem:  # one line per new reason, not one per retry
                    log.warning(
                        "%s; retrying with backoff up to %d s (the API and /healthz keep serving)",
                        _log_line(problem, refused),
                        limit,
                    )
                self._problem = problem
                self._stop.wait(min(delay, limit))
                delay = min(delay * 2, limit)
                continue
            self._problem = None
            log.info("Socket Mode connected%s", f" after {attempts} attempts" * (attempts > 1))
            return


def say_who(client: WebClient) -> None:
    try:
        who = client.auth_test()
        log.info("connected to Slack as %s in %s", who.get("user"), who.get("team"))
    except (SlackApiError, OSError) as exc:
        # Keep running: ingestion works and the outbox delivers once Slack answers again.
        log.warning("Slack auth.test failed (%s); posts wait in the outbox until it answers", exc)


def _problem(exc: Exception) -> tuple[bool, str]:
    """(whether Slack refused the token, what /healthz shows); never the token itself."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or exc.response.status_code)
        if error in REFUSED:
            return True, f"{error}: Slack refused SLACK_APP_TOKEN"
        return False, f"{error}: Slack would not open a connection"
    reason = getattr(exc, "reason", None) or exc  # URLError wraps the socket's error
    return False, f"unreachable: {type(reason).__name__}: {reason}"[:200]


def _log_line(problem: str, refused: bool) -> str:
    if refused:
        return (
            f"Socket Mode not connected: {problem} (it takes an app-level xapp- token with "
            "connections:write); fix it and restart Loopbot"
        )
    return f"Socket Mode not connected: {problem}"
