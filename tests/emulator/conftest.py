"""A fresh emulator per test, failing the test on any error inside the emulator itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slack_emulator import SlackEmulator
from slack_emulator.server import ThreadedServer
from tests.emulator import running


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with running() as emulator:
        yield emulator


@pytest.fixture
def received(emu: SlackEmulator) -> Iterator[list[dict]]:
    """An app over HTTP that acks every request with an empty 200 and keeps the interactive payloads."""
    got: list[dict] = []

    async def events(request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        got.append(json.loads(form["payload"][0]))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    with ThreadedServer(app) as server:
        emu.deliver_http(server.url + "slack/events")
        yield got
