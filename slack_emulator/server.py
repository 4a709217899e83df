"""Serve an ASGI app with uvicorn on 127.0.0.1 in a background thread (the emulator, or a test's receiver)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn


class ThreadedServer:
    def __init__(
        self,
        app: Any,
        port: int = 0,
        *,
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ):
        self.app = app
        self.port = port
        self._on_loop = on_loop
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        return sock

    def start(self, sock: socket.socket | None = None) -> ThreadedServer:
        """Returns once the port is listening; port 0 picks a free one (see .port)."""
        sock = sock or self.bind()
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"uvicorn-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def _serve(self, sock: socket.socket) -> None:
        async def main() -> None:
            if self._on_loop:
                self._on_loop(asyncio.get_running_loop())
            assert self._server is not None
            await self._server.serve(sockets=[sock])

        asyncio.run(main())

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server, self._thread = None, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
