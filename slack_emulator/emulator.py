"""SlackEmulator: the loopback server's lifecycle, fault switches, call records and read helpers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_emulator.driver import Delivery
from slack_emulator.faults import CallLog, CallRecord, Fault, Faults, InFlight
from slack_emulator.people import People
from slack_emulator.server import ThreadedServer
from slack_emulator.socket_mode import SocketHub
from slack_emulator.state import Identity, Workspace
from slack_emulator.views import TRIGGER_TTL, ViewStore
from slack_emulator.web_api import build_app

T = TypeVar("T")


class SlackEmulator(People):
    """Plays Slack for the app on 127.0.0.1: the Web API, response_urls, file uploads and Socket Mode."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-emulator",
        app_token: str = "xapp-emulator",
        signing_secret: str = "emulator-secret",
        channels: dict[str, str] | None = None,
        users: dict[str, str | dict] | None = None,
        team_id: str = "T0LOOPBOT",
        not_in_channel: set[str] | frozenset[str] = frozenset(),
        port: int = 0,
        seed: int = 0,
        ack_timeout: float = 3.0,
        trigger_ttl: float = TRIGGER_TTL,
    ):
        self.bot_token, self.app_token, self.signing_secret = bot_token, app_token, signing_secret
        self.identity = Identity(team_id=team_id)
        self.workspace = Workspace.build(self.identity, channels, users, not_in_channel)
        self.views = ViewStore(self.identity, trigger_ttl)
        self.socket = SocketHub(self.identity)
        self.faults = Faults(seed)
        self.call_log = CallLog()
        # emu.in_flight("chat.postMessage"): calls received and not yet answered.
        self.in_flight = InFlight()
        # Slack waits 3 seconds for an ack; a slower answer is a failed delivery.
        self.ack_timeout = ack_timeout
        self.deliveries: list[Delivery] = []
        self.internal_errors: list[str] = []
        self._lock = threading.Lock()
        self._requested_port = port
        self.port = 0
        self._server: ThreadedServer | None = None

    # -- lifecycle

    def start(self) -> SlackEmulator:
        """Start serving; returns once the port is listening."""
        if self._server is None:
            server = ThreadedServer(build_app(self), self._requested_port, on_loop=self._set_loop)
            # Bind first: apps.connections.open hands out ws:// URLs with the port.
            sock = server.bind()
            self.port = self.socket.port = server.port
            self._server = server.start(sock)
        return self

    def _set_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self.socket.loop = loop

    def stop(self) -> None:
        self.close_http_clients()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        """What WebClient(base_url=...) and SLACK_API_URL take."""
        return self.base_url + "api/"

    # -- calls

    @property
    def calls(self) -> list[CallRecord]:
        return self.call_log.all()

    def calls_to(self, method: str) -> list[CallRecord]:
        return [c for c in self.call_log.all() if c.method == method]

    def wait_calls(self, method: str, count: int = 1, timeout: float = 10) -> list[CallRecord]:
        """Block until `count` calls to `method` were recorded; AssertionError with what came otherwise."""
        found = self.call_log.wait(method, count, timeout)
        assert len(found) >= count, (
            f"{len(found)} call(s) to {method} within {timeout}s, wanted {count}"
        )
        return found

    def clear_calls(self) -> None:
        self.call_log.clear()

    # -- fault switches (method may be "*" for every method, or "response_url")

    def rate_limit(
        self,
        method: str,
        times: int | None = 1,
        retry_after: int = 1,
        *,
        fraction: float | None = None,
    ) -> None:
        self.faults.add(
            Fault("ratelimited", method, times=times, fraction=fraction, retry_after=retry_after)
        )

    def server_error(
        self,
        method: str,
        times: int | None = 1,
        status: int = 500,
        *,
        fraction: float | None = None,
    ) -> None:
        self.faults.add(
            Fault("server_error", method, times=times, fraction=fraction, status=status)
        )

    def hang(
        self, method: str, seconds: float, times: int | None = 1, *, fraction: float | None = None
    ) -> None:
        self.faults.add(Fault("hang", method, times=times, fraction=fraction, seconds=seconds))

    def fail(
        self, method: str, error: str, times: int | None = None, *, fraction: float | None = None
    ) -> None:
        self.faults.add(Fault("fail", method, times=times, fraction=fraction, error=error))

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- Socket Mode

    @property
    def socket_connected(self) -> bool:
        return self.socket.connected

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections were ever opened (grows on every reconnect)."""
        return self.socket.total_connections

    def wait_socket(self, timeout: float = 10, *, connections: int = 1) -> bool:
        return self.socket.wait_connections(connections, timeout)

    def socket_disconnect(self, reason: str = "refresh_requested") -> int:
        return self.socket.disconnect(reason)

    def socket_drop(self) -> int:
        return self.socket.drop()

    # -- ids a test may need to act like Slack directly

    def new_trigger_id(self, user: str) -> str:
        return self.views.new_trigger(user)

    def new_response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        rid = self.workspace.new_response_url(self.workspace.channel_id(channel), user, message_ts)
        return f"{self.base_url}response/{rid}"

    # -- read helpers

    def messages(self, channel: str) -> list[dict]:
        return self.workspace.messages(channel)

    def message(self, channel: str, ts: str) -> dict | None:
        return self.workspace.message(channel, ts)

    def replies(self, channel: str, ts: str) -> list[dict]:
        return self.workspace.replies(channel, ts)

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        return self.workspace.ephemerals(channel, user)

    def open_views(self, user: str | None = None) -> list[dict]:
        return self.views.open_views(user)

    def view(self, view_id: str) -> dict | None:
        return self.views.get(view_id)

    def home(self, user: str) -> dict | None:
        return self.views.home(user)

    def file(self, file_id: str) -> dict | None:
        return self.workspace.file(file_id)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 10,
        interval: float = 0.05,
        message: str = "",
    ) -> T:
        """Poll until predicate() is truthy and return its value (the bot answers asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(message or f"condition not met within {timeout}s")
            time.sleep(interval)

    def summary(self) -> dict[str, Any]:
        """A short picture of what happened, for assertion messages."""
        return {
            "calls": [(c.method, c.error) for c in self.calls],
            "deliveries": [(d.kind, d.status) for d in self.deliveries],
            "internal_errors": self.internal_errors,
        }
