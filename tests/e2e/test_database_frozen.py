"""PostgreSQL frozen (SIGSTOP, the server of the test's own) under a running `loopbot run`: the API, /healthz,
/metrics and Slack each answer in time; once it runs again, everything accepted is stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import create_engine, func, select

from storage.models import CaseEvent, Feedback
from tests.api.test_outage import throwaway_pg  # noqa: F401 - the fixture: a PostgreSQL server of our own
from tests.e2e.harness import INGEST_TOKEN, running_bot
from tests.factories import item

T = TypeVar("T")
CH, AGENT, SUPER = "C0DELIVERY", "U0AGENT1", "U0SUPER1"
RESOLVE = {
    "outcome": {"outcome": "no_action"},
    "root_cause": {"root_cause": "late_delivery"},
    "action": {"action": "Explained the delay"},
    "rationale": {"rationale": "Courier strike, nothing to fix"},
}
BOUND_S = 2.0  # the API, /healthz and /metrics; Slack's own limit for an answer is 3 s


def _parent(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(
        stat.rsplit(")", 1)[1].split()[1]
    )  # the fields after the command's name: state, ppid


@contextmanager
def frozen(data: Path) -> Iterator[None]:
    """Every process of the server stopped, as a hung host or a paused VM would leave it: connections
    stay open, the kernel still accepts and acknowledges, nothing answers."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGSTOP)  # first: it forks no new backend meanwhile
    stopped = [postmaster]
    try:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and _parent(pid) == postmaster:
                os.kill(int(pid), signal.SIGSTOP)
                stopped.append(int(pid))
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def post(url: str, *items: dict) -> httpx.Response:
    return httpx.post(
        f"{url}/api/feedback",
        json=list(items),
        timeout=30,  # before the fix: 29-30 s
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
    )


def test_a_frozen_database_gets_answers_in_time_and_everything_accepted_stored_once(
    tmp_path,
    emu,
    throwaway_pg,  # noqa: F811
):
    during = [item(id="during-1", score=1, comment="never arrived"), item(id="during-2")]
    with running_bot(tmp_path, throwaway_pg.url, socket_mode=False, emu=emu) as bot:
        [ref] = bot.ingest(item(id="before", score=1, comment="late again"))["cases"]
        ts = bot.case_message(ref)["ts"]
        assert emu.click(CH, ts, "case_resolve", SUPER).ok
        modal = emu.wait_for(lambda: next(iter(emu.open_views(SUPER)), None), timeout=10)
        took: dict[str, float] = {}
        with frozen(throwaway_pg.data):
            refused, took["api"] = timed(lambda: post(bot.url, *during))
            health, took["healthz"] = timed(lambda: httpx.get(f"{bot.url}/healthz", timeout=30))
            metrics, took["metrics"] = timed(lambda: httpx.get(f"{bot.url}/metrics", timeout=30))
            submitted = emu.submit_view(modal["id"], SUPER, RESOLVE)
            # Past the pause after a failure, one request tries again, and waits in vain: the worst case.
            time.sleep(1.2)
            click = emu.click(CH, ts, "case_ack", AGENT)
            command = emu.slash_command(f"ack {ref}", AGENT, CH)
            time.sleep(1.2)
            again, took["api again"] = timed(lambda: post(bot.url, *during))
            took |= {"click": click.elapsed, "command": command.elapsed, "modal": submitted.elapsed}
        assert refused.status_code == 503 and refused.headers["retry-after"], refused.text
        assert "nothing was stored" in refused.json()["error"]
        assert again.status_code == 503
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
        assert metrics.status_code in (200, 503)
        assert click.ok and command.ok and submitted.ok  # answered within Slack's 3 s
        assert "Try again" in json.dumps(command.response)
        # The modal stays open, what was typed kept, the message under its first input.
        assert submitted.response["response_action"] == "errors", submitted.response
        assert "Try again" in json.dumps(submitted.response) and emu.open_views(SUPER)
        bot.emu.wait_for(
            lambda: any("Try again" in json.dumps(m) for m in emu.ephemerals(CH, AGENT)),
            message=f"no 'try again' for the click: {emu.ephemerals(CH, AGENT)}",
        )
        print(f"answer times with the database frozen: {took}")
        assert max(took.values()) < BOUND_S, took  # before the fix: 29-30 s each
        assert max(took["click"], took["command"], took["modal"]) < 3.0, took

        # Running again: the client retries what was refused, the person clicks again.
        deadline = time.monotonic() + 15
        while (retried := post(bot.url, *during)).status_code != 200:
            assert retried.status_code == 503 and time.monotonic() < deadline, retried.text
            time.sleep(0.2)
        # A COMMIT already on its way when the server froze may have landed: then they are duplicates.
        assert retried.json()["accepted"] + retried.json()["duplicates"] == 2
        assert emu.click(CH, ts, "case_ack", AGENT).ok
        emu.wait_for(lambda: "Acknowledged by" in json.dumps(emu.message(CH, ts)), timeout=15)
        assert emu.submit_view(modal["id"], SUPER, RESOLVE).ok and not emu.open_views(SUPER)
        assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200
    engine = create_engine(throwaway_pg.url)
    try:
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    select(Feedback.external_id, func.count()).group_by(Feedback.external_id)
                ).all()
            )
            changes = dict(
                conn.execute(
                    select(CaseEvent.kind, func.count())
                    .where(CaseEvent.kind.in_(["acknowledged", "resolved"]))
                    .group_by(CaseEvent.kind)
                ).all()
            )
    finally:
        engine.dispose()
    assert stored == {"before": 1, "during-1": 1, "during-2": 1}
    assert changes == {"acknowledged": 1, "resolved": 1}
