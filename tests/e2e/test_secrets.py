"""No secret ever leaves Loopbot: with every secret set, errors are provoked on every path a request
or a failure can take, and the log (text and JSON) and every HTTP answer are searched for each
secret's value. SQLite with Socket Mode and text logs; PostgreSQL (its password in DATABASE_URL)
with HTTP mode and JSON logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from slack_emulator import SlackEmulator
from tests.api.fixtures import SECRETS, SOURCES, body, typeform
from tests.conftest import CONFIG
from tests.e2e.harness import (
    CHANNELS,
    INGEST_TOKEN,
    SIGNING_SECRET,
    USERS,
    database_url,
    running_bot,
)
from tests.factories import item

BOT_TOKEN = "xoxb-1234-5678-SecretBotToken9f3k"
APP_TOKEN = "xapp-1-A0-9999-SecretAppToken2h7q"
DB_PASSWORD = "Db-Pa55word-q8Zr"
TOOLS = ("typeform", "delighted", "zendesk", "intercom", "standard")


def secrets() -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LOOPBOT_INGEST_TOKEN": INGEST_TOKEN,
        "database password": DB_PASSWORD,
        **SECRETS,
    }


def with_password(url: str) -> str:
    # Trust authentication lets any password in: the URL carries one as production's would.
    return url.replace("://postgres@", f"://postgres:{DB_PASSWORD}@", 1)


def provoke(bot, emu: SlackEmulator, http_mode: bool) -> list[httpx.Response]:  # noqa: ANN001
    """Every kind of refusal and failure a running Loopbot can meet, and what it answered."""
    answers: list[httpx.Response] = []
    with httpx.Client(base_url=bot.url, timeout=30) as c:
        bearer = {"Authorization": f"Bearer {INGEST_TOKEN}"}
        answers += [
            c.post("/api/feedback", json=[item()], headers={"Authorization": "Bearer wrong"}),
            c.post("/api/feedback", json=[item()]),
            c.post("/api/feedback", json=[{"id": "x"}], headers=bearer),
            c.post("/api/feedback", content=b"\xff{not json", headers=bearer),
        ]
        for tool in TOOLS:  # unsigned, then signed with another secret
            raw = body({"event_type": "form_response"})
            answers.append(c.post(f"/api/webhooks/{tool}", content=raw))
            answers.append(c.post(f"/api/webhooks/{tool}", content=raw, headers=typeform.sign(raw)))
        raw = body({"event_type": "form_response", "form_response": {"form_id": "nope"}})
        answers.append(c.post("/api/webhooks/typeform", content=raw, headers=typeform.sign(raw)))
        if http_mode:
            answers.append(c.post("/slack/events", content=b"command=/feedback&text=help"))
            stale = {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}
            answers.append(c.post("/slack/events", content=b"x", headers=stale))
        # Slack refusing the token, then failing outright, while cases are posted.
        emu.fail("chat.postMessage", "invalid_auth", times=2)
        emu.server_error("chat.postMessage", times=2)
        c.post("/api/feedback", json=[item(id="neg-1", score=1)], headers=bearer)
        c.post("/api/feedback", json=[item(id="neg-2", score=1)], headers=bearer)
        time.sleep(3)  # the outbox worker's attempts and their log lines
        answers += [c.get("/healthz"), c.get("/metrics"), c.get("/openapi.json")]
    return answers


def command(*args: str, env: dict[str, str], tmp_path: Path) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "loopbot", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr  # each of these is refused
    return run.stdout + run.stderr


def refused_starts(tmp_path: Path) -> str:
    """check-config and run refusing a broken config, an unreachable database and a bad URL."""
    broken = tmp_path / "broken.yaml"
    # A token pasted into the YAML by mistake is masked when the line quotes it.
    broken.write_text(f"teams:\n  delivery:\n    channel: {BOT_TOKEN}\n    sla: soon\n")
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LOOPBOT_INGEST_TOKEN": INGEST_TOKEN,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        **SECRETS,
    }
    closed = f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:9/test"
    out = command("check-config", env={**env, "LOOPBOT_CONFIG": str(broken)}, tmp_path=tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(CONFIG))
    for url in (closed, f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:notaport/db"):
        for cmd in ("check-config", "run"):
            env_now = {**env, "LOOPBOT_CONFIG": str(good), "DATABASE_URL": url}
            out += command(cmd, env=env_now, tmp_path=tmp_path)
    return out


@pytest.mark.parametrize(
    ("kind", "log_format", "socket_mode"),
    [("sqlite", "text", True), ("postgresql", "json", False)],
    ids=["sqlite-socket-text", "postgresql-http-json"],
)
def test_no_secret_in_any_log_line_or_answer(tmp_path, kind, log_format, socket_mode):
    emu = SlackEmulator(
        channels=CHANNELS, users=USERS, bot_token=BOT_TOKEN, app_token=APP_TOKEN
    ).start()
    try:
        with database_url(kind, tmp_path) as url:
            env = {**SECRETS, "LOOPBOT_LOG_FORMAT": log_format}
            with running_bot(
                tmp_path,
                with_password(url),
                socket_mode=socket_mode,
                emu=emu,
                config_data={**CONFIG, "sources": SOURCES},
                extra_env=env,
            ) as bot:
                answers = provoke(bot, emu, http_mode=not socket_mode)
                bot.stop()
                log = bot.output()
    finally:
        emu.stop()
    texts = {"log": log, "refused starts": refused_starts(tmp_path)}
    texts |= {f"{r.request.method} {r.request.url.path} ({r.status_code})": r.text for r in answers}
    # The errors did happen: a secret that is absent because nothing failed proves nothing.
    assert {r.status_code for r in answers} >= {401, 422, 200}
    assert "invalid_auth" in log and "DATABASE_URL" in texts["refused starts"]
    leaks = [
        (name, where)
        for name, value in secrets().items()
        for where, text in texts.items()
        if value in text
    ]
    assert leaks == []
