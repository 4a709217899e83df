"""`loopbot run` in Socket Mode when Slack cannot be reached or refuses the app token at start: it serves
the API and /healthz at once, says where the connection stands, and connects once Slack answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from slack_emulator import SlackEmulator
from tests.api.conftest import free_port
from tests.conftest import CONFIG
from tests.e2e.harness import CHANNELS, INGEST_TOKEN, ROOT, USERS, away_from_huddles
from tests.factories import item

BOT_TOKEN, APP_TOKEN = "xoxb-emulator", "xapp-emulator"  # SlackEmulator's defaults


@contextmanager
def socket_mode_bot(tmp_path: Path, slack_port: int) -> Iterator[tuple[str, Path]]:
    """`loopbot run` in Socket Mode with Slack at 127.0.0.1:`slack_port`, whether or not anything listens
    there; yields once /healthz answers, without waiting for Slack."""
    config = tmp_path / "loopbot.yaml"
    config.write_text(yaml.safe_dump(away_from_huddles(CONFIG)))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    env |= {
        "LOOPBOT_CONFIG": str(config),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'loopbot.db'}",
        "LOOPBOT_HOST": "127.0.0.1",
        "LOOPBOT_PORT": str(port),
        "LOOPBOT_INGEST_TOKEN": INGEST_TOKEN,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
    }
    log = tmp_path / "loopbot.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopbot", "run"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"loopbot run exited: {log.read_text()}"
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                pass
            # Before the fix: the main thread died connecting, the port never opened, the process lived on.
            assert time.monotonic() < deadline, f"loopbot run never served: {log.read_text()}"
            time.sleep(0.1)
        yield url, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def slack_state(url: str, until: str, timeout: float = 20) -> dict:
    """/healthz once its `slack` field holds `until`."""
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{url}/healthz", timeout=5)
        if until in health.json().get("slack", ""):
            return health.json() | {"http_status": health.status_code}
        assert time.monotonic() < deadline, f"/healthz never said {until!r}: {health.text}"
        time.sleep(0.1)


def ingest(url: str, *items: dict) -> dict:
    resp = httpx.post(
        f"{url}/api/feedback",
        json=list(items),
        timeout=10,
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def posted(emu: SlackEmulator, ref: str) -> bool:
    return any(ref in (m.get("text") or "") for m in emu.messages("C0DELIVERY"))


def test_slack_unreachable_at_start_serves_at_once_and_connects_when_slack_comes(tmp_path):
    slack_port = free_port()  # nothing listens there until the emulator starts
    with socket_mode_bot(tmp_path, slack_port) as (url, log):
        health = slack_state(url, "unreachable")
        # Alive and serving: no restart wanted, but the body says what is wrong.
        assert health["http_status"] == 200 and health["status"] == "degraded"
        assert health["database"] == "ok"
        [ref] = ingest(url, item(score=1, comment="late again"))["cases"]
        with SlackEmulator(channels=CHANNELS, users=USERS, port=slack_port) as emu:
            # The retries back off from 1 s: the connection follows within the current delay.
            assert emu.wait_socket(timeout=30), log.read_text()
            health = slack_state(url, "connected")
            assert health["http_status"] == 200 and health["status"] == "ok"
            emu.wait_for(lambda: posted(emu, ref), timeout=40, message=emu.summary())
            answer = emu.slash_command("help", "U0AGENT1", "C0DELIVERY")
            assert answer.ok and answer.transport == "socket", answer
        output = log.read_text()
    assert "Traceback" not in output
    assert "Socket Mode not connected: unreachable" in output and "Socket Mode connected" in output


def test_app_token_refused_at_start_serves_says_so_and_connects_once_accepted(tmp_path):
    with SlackEmulator(channels=CHANNELS, users=USERS) as emu:
        emu.fail("apps.connections.open", "invalid_auth")  # until cleared
        with socket_mode_bot(tmp_path, emu.port) as (url, log):
            health = slack_state(url, "invalid_auth")
            assert health["http_status"] == 200 and health["status"] == "degraded"
            assert "SLACK_APP_TOKEN" in health["slack"]
            # The bot token still works: ingestion opens the case and the outbox posts it.
            [ref] = ingest(url, item(score=1, comment="rude driver"))["cases"]
            emu.wait_for(lambda: posted(emu, ref), timeout=30, message=emu.summary())
            assert not emu.socket_connected
            emu.clear_faults()
            assert emu.wait_socket(timeout=30), log.read_text()
            assert slack_state(url, "connected")["status"] == "ok"
            assert emu.slash_command("help", "U0AGENT1", "C0DELIVERY").ok
            output = log.read_text()
    assert "Traceback" not in output
    assert output.count("Slack refused SLACK_APP_TOKEN") == 1  # said once, not at every retry
