"""Packaging check (RELIABILITY.md): a fresh virtualenv, `pip install .` with no extras, then
`loopbot check-config`, `loopbot run` and `loopbot sandbox` each start from it (the last two until
their HTTP port answers), and stop cleanly on SIGTERM.

Run: python3 bench/packaging.py   (a few minutes: the install is most of it)
Prints a Markdown table for RELIABILITY.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own loopback URL
            return r.status == 200
    except OSError:
        return False


def serve(cmd: list[str], env: dict[str, str], url: str, cwd: Path) -> tuple[str, float, int]:
    """Start `cmd`, wait until `url` answers 200 (at most 120 s), SIGTERM it: outcome, seconds, exit."""
    log = (cwd / f"{cmd[1]}.log").open("wb")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        while time.monotonic() - start < 120:
            if proc.poll() is not None:
                return "exited before serving", time.monotonic() - start, proc.returncode
            if answers(url):
                took = time.monotonic() - start
                proc.send_signal(signal.SIGTERM)
                return "served", took, proc.wait(30)
            time.sleep(0.2)
        return "no answer in 120 s", time.monotonic() - start, -1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="loopbot-packaging-"))
    rows: list[tuple[str, str, str]] = []
    try:
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        began = time.monotonic()
        # A copy of the sources: building in place would leave build/ and *.egg-info behind.
        src = work / "src"
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "*.db", "build"))
        install = subprocess.run([*pip, str(src)], capture_output=True, text=True)
        rows.append(
            (
                "`pip install .` (no extras) in a fresh venv",
                "exit 0" if install.returncode == 0 else f"exit {install.returncode}",
                f"{time.monotonic() - began:.0f} s",
            )
        )
        if install.returncode:
            print(install.stderr[-2000:], file=sys.stderr)
            return 1
        frozen = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "freeze"], capture_output=True, text=True
        ).stdout.lower()
        test_only = [
            name for name in ("pytest", "hypothesis", "selenium", "ruff") if name in frozen
        ]
        rows.append(("test-only packages installed", ", ".join(test_only) or "none", ""))
        loopbot = str(venv / "bin" / "loopbot")
        run_dir = work / "run"
        run_dir.mkdir()
        shutil.copy(ROOT / "config" / "loopbot.example.yaml", run_dir / "loopbot.yaml")
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(run_dir),
            "LOOPBOT_CONFIG": str(run_dir / "loopbot.yaml"),
            "DATABASE_URL": f"sqlite:///{run_dir / 'loopbot.db'}",
        }
        check = subprocess.run(
            [loopbot, "check-config"], env=env, cwd=run_dir, capture_output=True, text=True
        )
        rows.append(
            (
                "`loopbot check-config`",
                f"exit {check.returncode}",
                check.stdout.split(": ", 1)[-1][:120],
            )
        )
        port = free_port()
        outcome, took, code = serve(
            [loopbot, "run"],
            {**env, "LOOPBOT_PORT": str(port), "LOOPBOT_INGEST_TOKEN": "packaging"},
            f"http://127.0.0.1:{port}/healthz",
            run_dir,
        )
        rows.append(("`loopbot run` until /healthz answers", outcome, f"{took:.1f} s, exit {code}"))
        port = free_port()
        outcome, took, code = serve(
            [loopbot, "sandbox", "--port", str(port)],
            env,
            f"http://127.0.0.1:{port}/sandbox",
            run_dir,
        )
        rows.append(
            ("`loopbot sandbox` until /sandbox answers", outcome, f"{took:.1f} s, exit {code}")
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"### Packaging — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores\n"
    )
    print("| step | result | |\n|---|---|---|")
    for step, result, detail in rows:
        print(f"| {step} | {result} | {detail} |")
    ok = all(r[1] in ("exit 0", "none", "served") for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
