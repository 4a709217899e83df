"""The Socket Mode WebSocket: hello on connect, envelopes out, acks in by envelope_id, disconnect to refresh."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from starlette.websockets import WebSocket, WebSocketState

from slack_emulator.state import Identity

# Slack closes a connection it asked to refresh about ten seconds after sending `disconnect`.
DISCONNECT_GRACE = 10.0


@dataclass
class _Connection:
    id: int
    websocket: WebSocket
    opened: float = field(default_factory=time.time)


class SocketHub:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.disconnect_grace = DISCONNECT_GRACE
        self._lock = threading.Condition()
        self._tickets: set[str] = set()
        self._connections: list[_Connection] = []
        self._pending: dict[str, concurrent.futures.Future] = {}
        self.total_connections = 0
        self.received: list[dict] = []
        self._tasks: set[asyncio.Task] = set()

    def new_url(self) -> str:
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.identity.app_id}"

    @property
    def connected(self) -> bool:
        with self._lock:
            return bool(self._connections)

    def wait_connections(self, total: int, timeout: float) -> bool:
        """Wait until at least `total` connections have ever been made and exactly one is open.

        After a refresh the builtin client only reads from its new connection once it has closed the old one
        (which can take its 3 s receive timeout), so "one open" is when envelopes will be read again."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.total_connections < total or len(self._connections) != 1:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    async def endpoint(self, websocket: WebSocket) -> None:
        ticket = websocket.query_params.get("ticket", "")
        with self._lock:
            # A URL from apps.connections.open is good for one connection.
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        if not valid:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        with self._lock:
            self.total_connections += 1
            conn = _Connection(self.total_connections, websocket)
            self._connections.append(conn)
            count = len(self._connections)
            self._lock.notify_all()
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.identity.app_id},
        }
        try:
            await websocket.send_text(json.dumps(hello))
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                self._on_text(
                    message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
                )
        finally:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)
                self._lock.notify_all()

    def _on_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            self.received.append(data)
            future = self._pending.pop(str(data.get("envelope_id")), None)
        if future is not None and not future.done():
            future.set_result(data)

    def _newest(self) -> _Connection:
        with self._lock:
            if not self._connections:
                raise RuntimeError(
                    "no Socket Mode connection: has the app called apps.connections.open and connected?"
                )
            return self._connections[-1]

    def _run(self, coro, timeout: float = 5.0):
        if self.loop is None:
            raise RuntimeError("emulator not started")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def send(self, envelope: dict, timeout: float) -> dict | None:
        """Send an envelope to the newest connection; the ack, or None when none came within `timeout`."""
        conn = self._newest()
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._pending[envelope["envelope_id"]] = future
        self._run(conn.websocket.send_text(json.dumps(envelope)))
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            return None
        finally:
            with self._lock:
                self._pending.pop(envelope["envelope_id"], None)

    def disconnect(self, reason: str = "refresh_requested") -> int:
        """Ask every open connection to reconnect, then close them after the grace period, as Slack does."""
        with self._lock:
            targets = list(self._connections)
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
        )
        for conn in targets:
            self._run(self._send_then_close(conn, message))
        return len(targets)

    async def _send_then_close(self, conn: _Connection, message: str) -> None:
        await conn.websocket.send_text(message)

        async def close_later() -> None:
            await asyncio.sleep(self.disconnect_grace)
            await self._close(conn)

        task = asyncio.get_running_loop().create_task(close_later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, conn: _Connection, code: int = 1000) -> None:
        if conn.websocket.application_state == WebSocketState.CONNECTED:
            try:
                await conn.websocket.close(code=code)
            except RuntimeError:
                pass

    def drop(self) -> int:
        """Close every connection without warning (a network blip); the client must notice and reconnect."""
        with self._lock:
            targets = list(self._connections)
        for conn in targets:
            self._run(self._close(conn, 1001))
        return len(targets)
