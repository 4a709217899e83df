"""Fault switches: 429 with Retry-After (honoured by WebClient's retry handler), 5xx, errors, hangs that block no one."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from tests.emulator import running, web


def test_rate_limit_answers_429_with_retry_after(emu):
    emu.rate_limit("chat.postMessage", times=1, retry_after=7)
    answer = httpx.post(
        emu.api_url + "chat.postMessage",
        headers={"Authorization": f"Bearer {emu.bot_token}"},
        json={"channel": "C0DELIVERY", "text": "x"},
    )
    assert (answer.status_code, answer.headers["Retry-After"], answer.json()) == (
        429,
        "7",
        {"ok": False, "error": "ratelimited"},
    )
    assert emu.messages("C0DELIVERY") == []
    assert web(emu).chat_postMessage(channel="C0DELIVERY", text="x")["ok"], (
        "times=1: the next call goes through"
    )


def test_webclient_retry_handler_waits_retry_after_then_succeeds(emu):
    emu.rate_limit("chat.postMessage", times=1, retry_after=1)
    client = web(emu, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    assert client.chat_postMessage(channel="C0DELIVERY", text="after the wait")["ok"]
    assert time.monotonic() - started >= 1.0
    assert [(c.status, c.error) for c in emu.calls_to("chat.postMessage")] == [
        (429, "ratelimited"),
        (200, None),
    ]
    assert len(emu.messages("C0DELIVERY")) == 1


def test_server_errors_and_the_server_error_retry_handler(emu):
    emu.server_error("chat.update", times=2, status=503)
    emu.server_error("chat.postMessage", times=1)
    client = web(emu, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert client.chat_postMessage(channel="C0DELIVERY", text="x")["ok"]
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C0DELIVERY", ts="1.000001", text="x")
    assert caught.value.response.status_code == 503
    assert [c.status for c in emu.calls] == [500, 200, 503, 503]


def test_fail_lasts_until_cleared(emu):
    emu.fail("views.publish", "team_access_not_granted")
    client = web(emu)
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    for _ in range(3):
        with pytest.raises(SlackApiError) as caught:
            client.views_publish(user_id="U0AGENT1", view=home)
        assert caught.value.response["error"] == "team_access_not_granted"
    emu.clear_faults()
    assert client.views_publish(user_id="U0AGENT1", view=home)["ok"]
    assert [c.ok for c in emu.calls_to("views.publish")] == [False, False, False, True]


def test_a_hung_call_does_not_hold_up_the_others(emu):
    emu.hang("chat.postMessage", seconds=2)
    hung: dict = {}

    def slow() -> None:
        started = time.monotonic()
        hung["answer"] = web(emu).chat_postMessage(channel="C0DELIVERY", text="late")["ok"]
        hung["took"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    emu.wait_for(lambda: emu.in_flight("chat.postMessage") == 1, timeout=5)
    started = time.monotonic()
    assert web(emu).auth_test()["ok"]
    prompt = time.monotonic() - started
    thread.join(timeout=10)
    assert prompt < 1.0, "the other request waited for the hung one"
    assert hung["answer"] is True and hung["took"] >= 2.0 and emu.in_flight() == 0
    assert emu.calls_to("chat.postMessage")[0].duration >= 2.0


def test_faults_can_target_every_method(emu):
    emu.fail("*", "fatal_error", times=2)
    client = web(emu)
    for call in (client.auth_test, lambda: client.users_info(user="U0AGENT1")):
        with pytest.raises(SlackApiError):
            call()
    assert client.auth_test()["ok"]


def test_probabilistic_faults_are_reproducible_with_a_seed():
    outcomes = []
    for _ in range(2):
        with running(seed=42) as emu:
            emu.rate_limit("auth.test", times=None, fraction=0.5, retry_after=1)
            for _ in range(20):
                httpx.post(
                    emu.api_url + "auth.test", headers={"Authorization": f"Bearer {emu.bot_token}"}
                )
            outcomes.append([c.status for c in emu.calls])
    assert outcomes[0] == outcomes[1]
    assert 429 in outcomes[0] and 200 in outcomes[0]
