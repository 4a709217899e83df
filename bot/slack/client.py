"""The one Slack Web API client: pointed at SLACK_API_URL, retrying what Slack says to retry, counting errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from config.settings import Settings

# Short enough that a hung Slack call gives its worker back soon; the outbox retries the post.
TIMEOUT_S = 10

ErrorHook = Callable[[str, str], None]  # (method, error)


class LoopbotClient(WebClient):
    """WebClient that reports every failed call by method, for /metrics and logs."""

    def __init__(self, *args: Any, on_error: ErrorHook | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._on_error = on_error

    def api_call(self, api_method: str, **kwargs: Any):  # noqa: ANN201 - same as WebClient.api_call
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            self._report(api_method, str(exc.response.get("error") or exc.response.status_code))
            raise
        except OSError as exc:  # URLError, timeouts, refused connections
            self._report(api_method, type(exc).__name__)
            raise

    def _report(self, method: str, error: str) -> None:
        if self._on_error is not None:
            self._on_error(method, error)


def make_client(settings: Settings, on_error: ErrorHook | None = None) -> LoopbotClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return LoopbotClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_S,
        on_error=on_error,
        # One quick retry in the call itself; anything longer is the outbox's job (it honours Retry-After).
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
            ConnectionErrorRetryHandler(max_retry_count=1),
        ],
    )
