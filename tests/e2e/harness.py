"""`loopbot run` as a real process against the Slack emulator, on SQLite or a PostgreSQL schema of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from slack_emulator import SlackEmulator
from tests.api.conftest import free_port
from tests.conftest import CONFIG, IN_CI, PG_URL

ROOT = Path(__file__).resolve().parents[2]
INGEST_TOKEN = "e2e-ingest-token"
SIGNING_SECRET = "e2e-signing-secret"
CHANNELS = {"C0DELIVERY": "delivery-ops", "C0SUPPORT": "support", "C0LEADERS": "leaders"}
USERS = {
    "U0AGENT1": "agent one",
    "U0AGENT2": "agent two",
    "U0SUPER1": "supervisor one",
    "U0SUPER2": "supervisor two",
    "U0LEADER1": "leader one",
    "U0STRANGER": "someone else",
}


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'e2e.db'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but LOOPBOT_TEST_DATABASE_URL is not set")
        pytest.skip("LOOPBOT_TEST_DATABASE_URL not set: PostgreSQL run skipped")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Bot:
    """A running `loopbot run` and the emulator it talks to."""

    def __init__(self, proc: subprocess.Popen, url: str, emu: SlackEmulator, log: Path):
        self.proc, self.url, self.emu, self.log = proc, url, emu, log

    def ingest(self, *items: dict) -> dict:
        resp = httpx.post(
            f"{self.url}/api/feedback",
            json=list(items),
            timeout=30,
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def case_message(self, ref: str, channel: str = "C0DELIVERY", timeout: float = 15) -> dict:
        """The case's message in the channel, once the outbox worker has posted it."""

        def find() -> dict | None:
            return next(
                (m for m in self.emu.messages(channel) if ref in (m.get("text") or "")), None
            )

        self.emu.wait_for(lambda: find() is not None, timeout=timeout)
        return find()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def away_from_huddles(config_data: dict) -> dict:
    """The default huddle (09:00 on weekdays) would be posted, or caught up at start, by a test that happens
    to run in that hour, and add a post the test did not make. Unless the test sets its own, huddles are
    moved 12 hours away from now: at least 7 hours either way in every team's zone here (UTC, New York)."""
    if "huddle" in config_data.get("defaults", {}):
        return config_data
    away = (datetime.now(UTC).hour + 12) % 24
    return {
        **config_data,
        "defaults": {**config_data.get("defaults", {}), "huddle": f"0 {away} * * *"},
    }


@contextmanager
def running_bot(
    tmp_path: Path,
    db_url: str,
    *,
    socket_mode: bool,
    emu: SlackEmulator,
    config_data: dict | None = None,
    name: str = "loopbot",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Bot]:
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(away_from_huddles(config_data or CONFIG)))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    env.update(
        {
            "LOOPBOT_CONFIG": str(config),
            "DATABASE_URL": db_url,
            "LOOPBOT_HOST": "127.0.0.1",
            "LOOPBOT_PORT": str(port),
            "LOOPBOT_INGEST_TOKEN": INGEST_TOKEN,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_API_URL": emu.api_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            **(extra_env or {}),
        }
    )
    if socket_mode:
        env["SLACK_APP_TOKEN"] = emu.app_token
    else:
        emu.deliver_http(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopbot", "run"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    bot = Bot(proc, f"http://127.0.0.1:{port}", emu, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"loopbot run exited: {bot.output()}"
            try:
                if httpx.get(f"{bot.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"loopbot run did not start: {bot.output()}"
            time.sleep(0.1)
        if socket_mode:
            emu.wait_socket(timeout=30)
        yield bot
    finally:
        bot.stop()
