"""A real uvicorn server on a free loopback port, serving the API against the test database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from bot.api.app import create_api
from bot.prometheus import Prometheus
from config.settings import Settings

TOKEN = "s3cret-ingest-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    def __init__(self, url: str, metrics: Prometheus):
        self.url, self.metrics = url, metrics

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(engine, ingestor, **settings) -> Running:  # noqa: ANN001
        settings.setdefault("LOOPBOT_INGEST_TOKEN", TOKEN)
        metrics = Prometheus()
        app = create_api(Settings(**settings), engine, ingestor, metrics)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        return Running(f"http://127.0.0.1:{port}", metrics)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def api(serve, engine, ingestor) -> Running:  # noqa: ANN001
    return serve(engine, ingestor)
