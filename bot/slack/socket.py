"""Socket Mode: the same App over Slack's WebSocket, while the HTTP server keeps serving the API."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger("loopbot.socket")


def connect(app: App, app_token: str) -> SocketModeHandler:
    """Open the connection without blocking; the client reconnects by itself on `disconnect`."""
    handler = SocketModeHandler(app, app_token=app_token, web_client=app.client, logger=log)
    handler.connect()
    return handler
