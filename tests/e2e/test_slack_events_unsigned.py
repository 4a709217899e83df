"""POST /slack/events on a real `loopbot run` in HTTP mode, with what anyone on the internet can send:
anything unsigned or badly signed is a 401, a signed but malformed body a 400, and neither leaves a
traceback (or the body) in the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import CHANNELS, SIGNING_SECRET, USERS, Bot, database_url, running_bot

MARKER = "body-marker-7f3a"  # in every body: the log must never quote a request
FORM = "application/x-www-form-urlencoded"
COMMAND = urlencode({"command": "/feedback", "text": f"help {MARKER}", "user_id": "U0AGENT1"})


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[Bot]:  # noqa: ANN001
    # One process for the module: every request here is refused before it reaches a listener.
    tmp_path = tmp_path_factory.mktemp("unsigned")
    with (
        SlackEmulator(channels=CHANNELS, users=USERS) as emu,
        database_url("sqlite", tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu) as b,
    ):
        yield b


def signature(timestamp: str, body: bytes, secret: str = SIGNING_SECRET) -> str:
    """Slack's scheme over the raw bytes: v0= and the hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def send(bot: Bot, body: bytes, headers: dict) -> httpx.Response:
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def signed(body: bytes, *, content_type: str = FORM, age_s: int = 0, **kw: str) -> dict:
    timestamp = kw.get("timestamp", str(int(time.time()) - age_s))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(timestamp, body, kw.get("secret", SIGNING_SECRET)),
    }


def logged_by(bot: Bot, request) -> tuple[httpx.Response, str]:  # noqa: ANN001
    """The answer, and what the bot logged meanwhile (a traceback comes right after a 500)."""
    before = len(bot.output())
    response = request()
    time.sleep(0.5)
    return response, bot.output()[before:]


def now() -> str:
    return str(int(time.time()))


# Headers are made when sent: a timestamp made at import would be stale by the time a test runs.
UNSIGNED = {
    "no signature at all": (COMMAND.encode(), lambda: {"Content-Type": FORM}),
    "a timestamp that is not a number": (
        COMMAND.encode(),
        lambda: {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": "soon",
            "X-Slack-Signature": "v0=00",
        },
    ),
    "a timestamp that is not a number, signed as sent": (
        COMMAND.encode(),
        lambda: signed(COMMAND.encode(), timestamp="1e9"),
    ),
    "a body that is not UTF-8": (
        f"text=caf\xe9 {MARKER}".encode("latin-1"),
        lambda: {"Content-Type": FORM},
    ),
    "payload= that is not JSON": (
        urlencode({"payload": "{not json " + MARKER}).encode(),
        lambda: {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": now(),
            "X-Slack-Signature": "v0=1",
        },
    ),
    "a JSON body that is not JSON": (
        b"{" + MARKER.encode(),
        lambda: {"Content-Type": "application/json"},
    ),
    "signed six minutes ago": (COMMAND.encode(), lambda: signed(COMMAND.encode(), age_s=360)),
    "signed six minutes ahead": (COMMAND.encode(), lambda: signed(COMMAND.encode(), age_s=-360)),
    "signed with another secret": (
        COMMAND.encode(),
        lambda: signed(COMMAND.encode(), secret="guess"),
    ),
    "a signature that is not ASCII": (
        COMMAND.encode(),
        lambda: {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": now(),
            "X-Slack-Signature": "v0=\xe9t\xe9".encode("latin-1"),
        },
    ),
}


@pytest.mark.parametrize("case", list(UNSIGNED))
def test_an_unsigned_or_badly_signed_request_is_401_with_no_traceback(bot, case):
    body, headers = UNSIGNED[case]
    response, log = logged_by(bot, lambda: send(bot, body, headers()))
    assert response.status_code == 401, response.text
    assert "Traceback" not in log and MARKER not in log
    assert bot.proc.poll() is None


SIGNED_MALFORMED = {
    "a body that is not UTF-8": (f"text=caf\xe9 {MARKER}".encode("latin-1"), FORM),
    "payload= that is not JSON": (urlencode({"payload": "{not json " + MARKER}).encode(), FORM),
    "payload= that is JSON but not an object": (
        urlencode({"payload": json.dumps([MARKER])}).encode(),
        FORM,
    ),
    "a JSON body that is not JSON": (b"{" + MARKER.encode(), "application/json"),
    "a JSON body that is not an object": (json.dumps([MARKER]).encode(), "application/json"),
}


@pytest.mark.parametrize("case", list(SIGNED_MALFORMED))
def test_a_signed_but_malformed_body_is_400_with_no_traceback(bot, case):
    body, content_type = SIGNED_MALFORMED[case]
    response, log = logged_by(bot, lambda: send(bot, body, signed(body, content_type=content_type)))
    assert response.status_code == 400, response.text
    assert "Traceback" not in log and MARKER not in log
    assert bot.proc.poll() is None


def test_a_request_signed_as_slack_does_still_reaches_the_app(bot):
    # Events API's URL check: bolt answers the challenge, so the request got through the check.
    body = json.dumps({"type": "url_verification", "challenge": "c-42", "token": "t"}).encode()
    response, log = logged_by(
        bot, lambda: send(bot, body, signed(body, content_type="application/json"))
    )
    assert response.status_code == 200 and response.json() == {"challenge": "c-42"}
    assert "Traceback" not in log
