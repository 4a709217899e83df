"""`loopbot sandbox` as a person meets it: the process starts and serves the page, headless Chromium works a case
through it (acknowledge, thread, resolve in the modal with one mistake, a chart), and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.e2e.harness import ROOT, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
AGENT, SUPERVISOR, LEADER = "U0AGENT1", "U0SUPER1", "U0LEADER1"


class Sandbox:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path):
        self.proc, self.url, self.log = proc, url, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    # Nothing of this machine's own Loopbot or Slack settings may reach the sandbox.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopbot", "sandbox", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    box = Sandbox(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while "open http://" not in box.output():
            assert proc.poll() is None, f"loopbot sandbox exited: {box.output()}"
            assert time.monotonic() < deadline, f"loopbot sandbox did not start: {box.output()}"
            time.sleep(0.2)
        yield box
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_sandbox_serves_the_page_and_its_slack_stand_in(sandbox: Sandbox) -> None:
    assert f"open {sandbox.url}/sandbox" in sandbox.output()
    page = httpx.get(f"{sandbox.url}/sandbox", timeout=10)
    assert page.status_code == 200 and "app.js" in page.text
    assert httpx.get(f"{sandbox.url}/healthz", timeout=10).json()["status"] in ("ok", "degraded")
    # Seeded history: the open cases of the last days are posted to the team channel over Socket Mode.
    state = _until(lambda: _state(sandbox, AGENT, "C0DELIVERY"), lambda s: len(s["messages"]) >= 3)
    assert {c["id"] for c in state["channels"]} >= {"C0DELIVERY", "C0SUPPORT", "C0LEADERS", "home"}
    # Each team's channel opens on a huddle digest, as at the start of a shift.
    for channel in ("C0DELIVERY", "C0SUPPORT", "C0BILLING"):
        _until(
            lambda c=channel: _state(sandbox, AGENT, c),
            lambda s: any("Huddle" in json.dumps(m) for m in s["messages"]),
            what=f"the digest in {channel}",
        )
    assert "Socket Mode connected" in sandbox.output()


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER) and not IN_CI,
    reason="no chromium/chromedriver here (Debian: apt-get install chromium chromium-driver)",
)
def test_a_person_works_a_case_in_the_browser(sandbox: Sandbox) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = _chromium()
    try:

        def find(css):  # noqa: ANN001, ANN202
            return _until(lambda: driver.find_elements(By.CSS_SELECTOR, css), bool, what=css)

        def click(css: str) -> None:
            # The live trickle re-renders the channel every few seconds: find and click again if the node went.
            _until(lambda: find(css)[-1].click() or True, bool, what=f"clicking {css}")

        driver.get(f"{sandbox.url}/sandbox")
        # The newest case message of delivery-ops, as the frontline agent (the default persona).
        ts = _until(
            lambda: (
                find('.message [data-action-id="case_ack"]')[-1]
                .find_element(By.XPATH, "./ancestor::div[@data-ts][1]")
                .get_attribute("data-ts")
            ),
            bool,
            what="a case message",
        )
        message = f'.message[data-ts="{ts}"]'
        click(f'{message} [data-action-id="case_ack"]')
        _until(
            lambda: find(message)[0].text,
            lambda t: "Acknowledged" in t,
            what="the message updated in place",
        )
        assert not driver.find_elements(By.CSS_SELECTOR, f'{message} [data-action-id="case_ack"]')
        click(f'{message} [data-thread-ts="{ts}"]')
        _until(
            lambda: find(".thread-pane")[0].text,
            lambda t: "acknowledged" in t.lower(),
            what="the thread line",
        )

        Select(find("#user-switcher")[0]).select_by_value(SUPERVISOR)
        click(f'{message} [data-action-id="case_resolve"]')
        Select(find('.modal [data-block-id="outcome"] select')[0]).select_by_value("fixed")
        Select(find('.modal [data-block-id="root_cause"] select')[0]).select_by_value(
            "late_delivery"
        )
        find(".modal .modal-submit")[
            0
        ].click()  # without saying what was done: refused under the field
        error = find('.modal [data-block-id="action"] .error')[0]
        assert error.text
        find('.modal [data-block-id="action"] textarea, .modal [data-block-id="action"] input')[
            0
        ].send_keys("Refunded the delivery fee and rebooked a morning slot")
        find(".modal .modal-submit")[0].click()
        _until(
            lambda: driver.find_elements(By.CSS_SELECTOR, ".modal"),
            lambda m: not m,
            what="the modal closed",
        )
        _until(
            lambda: find(message)[0].text,
            lambda t: "Refunded the delivery fee" in t,
            what="the resolution",
        )

        Select(find("#user-switcher")[0]).select_by_value(LEADER)
        box = find("#message-input")[0]
        box.send_keys("/feedback chart csat delivery")
        box.send_keys("\n")
        image = find("img.upload")[-1]
        _until(
            lambda: driver.execute_script("return arguments[0].naturalWidth", image),
            lambda w: w == 1200,
            what="the chart image loaded",
        )
    finally:
        driver.quit()


def test_sigterm_stops_the_sandbox_cleanly(sandbox: Sandbox) -> None:
    sandbox.proc.send_signal(signal.SIGTERM)
    assert sandbox.proc.wait(30) == 0, sandbox.output()
    assert "Loopbot stopped" in sandbox.output()


def _chromium() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("CI=true but chromium/chromedriver are missing: .ci/run installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _state(sandbox: Sandbox, user: str, channel: str) -> dict:
    return httpx.get(
        f"{sandbox.url}/sandbox/api/state", params={"user": user, "channel": channel}, timeout=10
    ).json()


def _until(
    read: Callable[[], Any], ok: Callable[[Any], bool], *, timeout: float = 30, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = read()
            if ok(value):
                return value
        except Exception as exc:  # a node re-rendered between finding and reading it: read again
            if type(exc).__name__ not in (
                "StaleElementReferenceException",
                "NoSuchElementException",
            ):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {what or read}"
        time.sleep(0.1)
