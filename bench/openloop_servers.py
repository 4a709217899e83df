"""The two servers of the latency benchmark: `loopbot run` as users run it, and the floor, a bare bolt App
whose listeners only ack on the same HTTP stack; both started as processes, Slack's requests sent to them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from slack_sdk import WebClient

from bench.ingest import free_port
from bot.slack.ids import ActionId, CallbackId
from slack_emulator import SlackEmulator

ROOT = Path(__file__).resolve().parent.parent
# The checkout whose `loopbot run` is measured (latency.py --product): another one measures the code before a
# change with the same load, emulator and database.
PRODUCT = {"root": ROOT}
SECRET, TOKEN = "bench-signing-secret", "bench-ingest-token"


def wait_healthy(url: str, proc: subprocess.Popen, log: Path | None = None) -> None:
    deadline = time.monotonic() + 90
    while True:
        tail = log.read_text()[-3000:] if log else ""
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {tail}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not come up: {tail}")
        time.sleep(0.1)


def peak_rss_mib(pid: int) -> float:
    """The kernel's high-water mark of the resident memory of the process and its children."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 + sum(peak_rss_mib(int(c)) for c in children)
    return 0.0


def slack_env(emu: SlackEmulator, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    return env | {
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_API_URL": emu.api_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "LOOPBOT_HOST": "127.0.0.1",
        "LOOPBOT_PORT": str(port),
        "LOOPBOT_LOG_FORMAT": "text",
        **extra,
    }


@contextlib.contextmanager
def server(emu: SlackEmulator, log: Path, *, url: str = "", config: Path | None = None) -> Iterator:
    """`loopbot run` on the database at `url` (the product as users run it), or the floor without a url;
    Slack's requests go to it while it runs. Yields (base URL, process)."""
    port = free_port()
    if url:
        cmd = [sys.executable, "-m", "loopbot", "run"]
        env = slack_env(
            emu, port, DATABASE_URL=url, LOOPBOT_CONFIG=str(config), LOOPBOT_INGEST_TOKEN=TOKEN
        )
        cwd = PRODUCT[
            "root"
        ]  # `python -m` puts it first on sys.path: its packages are the ones run
    else:
        cmd = [sys.executable, "-m", "bench.openloop_servers", str(port)]
        env = slack_env(emu, port)
        cwd = ROOT
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log)
        emu.deliver_http(f"{base}/slack/events", SECRET)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        emu.close_http_clients()


def serve_floor(port: int) -> None:
    """The floor: a bare bolt App whose listeners only ack, on the stack `loopbot run` uses (FastAPI,
    uvicorn, bot.slack.http.slack_router dispatching in the thread pool), with bolt's defaults."""
    import uvicorn
    from fastapi import FastAPI
    from slack_bolt import Ack, App

    from bot.slack.http import slack_router

    app = App(  # the client only answers bolt's one auth.test, from the emulator
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/feedback")(only_ack)
    for action in (ActionId.ACK, ActionId.ASSIGN_ME, ActionId.RESOLVE):
        app.action(action.value)(only_ack)
    app.view(CallbackId.RESOLVE.value)(only_ack)
    api = FastAPI(docs_url=None, redoc_url=None)
    api.include_router(slack_router(app, os.environ["SLACK_SIGNING_SECRET"]))
    api.get("/healthz")(lambda: {"status": "ok"})
    uvicorn.run(api, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":  # python -m bench.openloop_servers PORT, from the repository's root
    serve_floor(int(sys.argv[1]))
