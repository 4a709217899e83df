"""The chart worker process ends with the server, even when the server is killed without a word."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import time
from bot.charts.worker import Renderer
renderer = Renderer()
renderer.warm().result(timeout=60)
print(renderer.pids()[0], flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        # A zombie is gone in all but name: its parent is gone too, and init reaps it.
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_a_server_killed_with_sigkill_leaves_no_chart_worker_behind() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(server.stdout.readline())
        assert _alive(worker)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the chart worker outlived its server"
    finally:
        server.kill()
        server.wait()
