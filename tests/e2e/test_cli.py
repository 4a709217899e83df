"""The `loopbot` command as a user runs it: check-config, db upgrade, digest, run (serve, then stop on SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from storage import migrate
from tests.api.conftest import free_port
from tests.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "loopbot.example.yaml"


def loopbot(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loopbot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def base_env(tmp_path: Path, config: Path = EXAMPLE, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    return {
        **env,
        "LOOPBOT_CONFIG": str(config),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        **extra,
    }


def test_check_config_passes_on_the_example(tmp_path):
    result = loopbot("check-config", env=base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "delivery" in result.stdout


def test_check_config_fails_clearly_on_a_broken_file_without_echoing_secrets(tmp_path):
    broken = dict(
        CONFIG,
        teams={
            "delivery": {
                **CONFIG["teams"]["delivery"],
                "sla": {"ack": "24x", "resolve": "1d"},
                "supervisor": ["U0SUPER1"],
            }
        },
    )
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = loopbot(
        "check-config", env=base_env(tmp_path, path, SLACK_BOT_TOKEN="xoxp-not-a-bot-secret")
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f'{path}: teams.delivery.sla.ack: "24x" is not a duration (use 30m, 4h, 2d, 1w)' in lines
    assert any(
        line.startswith(f"{path}: teams.delivery.supervisor:") and "supervisors" in line
        for line in lines
    )
    assert any(
        line.startswith("environment: SLACK_BOT_TOKEN: must be a bot token") for line in lines
    )
    assert "not-a-bot-secret" not in result.stderr + result.stdout


def test_check_config_reports_a_missing_file(tmp_path):
    result = loopbot("check-config", env=base_env(tmp_path, tmp_path / "nope.yaml"))
    assert result.returncode == 2 and str(tmp_path / "nope.yaml") in result.stderr


def test_db_upgrade(tmp_path):
    result = loopbot("db", "upgrade", env=base_env(tmp_path))
    assert (
        result.returncode == 0
        and f"database at revision {migrate.head_revision()}" in result.stdout
    )
    assert (tmp_path / "cli.db").exists()


def test_run_serves_ingestion_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    env = base_env(
        tmp_path, LOOPBOT_PORT=str(port), LOOPBOT_HOST="127.0.0.1", LOOPBOT_INGEST_TOKEN="t0ken"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopbot", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            while True:
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "loopbot run did not come up"
                time.sleep(0.1)
            r = c.post(
                "/api/feedback",
                headers={"Authorization": "Bearer t0ken"},
                json={
                    "id": "x1",
                    "submitted_at": "2026-01-01T10:00:00Z",
                    "metric": "nps",
                    "score": 9,
                    "team": "delivery",
                },
            )
            assert r.status_code == 200 and r.json()["accepted"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stderr.read()
    assert "Loopbot serving" in log and "Loopbot stopped" in log


def test_digest_prints_a_team_digest_and_posts_it_with_post(tmp_path):
    from slack_emulator import SlackEmulator

    config = tmp_path / "digest.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    env = base_env(tmp_path, config)
    printed = loopbot("digest", "delivery", env=env)
    assert printed.returncode == 0, printed.stderr
    assert "Huddle digest · Delivery Ops" in printed.stdout and "Quiet period" in printed.stdout
    assert "[List open cases]" in printed.stdout
    unknown = loopbot("digest", "nosuch", env=env)
    assert (
        unknown.returncode == 2
        and "There is no team nosuch. Teams: delivery, support." in unknown.stderr
    )
    no_token = loopbot("digest", "delivery", "--post", env=env)
    assert no_token.returncode == 2 and "needs SLACK_BOT_TOKEN" in no_token.stderr
    with SlackEmulator(channels={"C0DELIVERY": "delivery-ops", "C0SUPPORT": "support"}) as emu:
        posted = loopbot(
            "digest",
            "delivery",
            "--post",
            env={
                **env,
                "SLACK_BOT_TOKEN": emu.bot_token,
                "SLACK_API_URL": emu.api_url,
                "SLACK_SIGNING_SECRET": "s",
            },
        )
        assert posted.returncode == 0, posted.stderr
        assert "posted to C0DELIVERY" in posted.stdout
        [message] = emu.messages("C0DELIVERY")
        assert "Delivery Ops" in message["text"] and message["metadata"]["event_payload"][
            "key"
        ].startswith("digest:delivery:")
