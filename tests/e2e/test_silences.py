"""Silences end to end (SPEC §9): `loopbot run` against the emulator. A supervisor silences a team's CSAT alerts;
a frontline agent may not; a breach during the silence opens no case but is recorded; the silence is announced
when it starts and when it ends exactly once, also when the bot is killed with SIGKILL and started again; once
it has ended the breach opens its case. `unsilence` ends one early."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from slack_emulator import SlackEmulator
from storage.db import make_engine, make_sessions
from storage.models import Silence
from tests.conftest import CONFIG
from tests.e2e.harness import database_url, running_bot
from tests.factories import item

CH = "C0DELIVERY"
SUPER, AGENT = "U0SUPER1", "U0AGENT1"
SIGNAL_CONFIG = copy.deepcopy(CONFIG)
SIGNAL_CONFIG["teams"]["delivery"]["thresholds"] = [
    {"metric": "csat", "below": 80, "window": "1h", "min_responses": 5},
    {"metric": "cases", "above": 100, "window": "1h"},
]


def shown(message: dict | None) -> str:
    return json.dumps(message or {}, ensure_ascii=False)


def answer(emu: SlackEmulator, text: str, user: str = SUPER) -> str:
    delivery = emu.slash_command(text, user, CH)
    assert delivery.ok, delivery
    return shown(delivery.response)


def posts(emu: SlackEmulator, text: str) -> list[dict]:
    return [m for m in emu.messages(CH) if text in shown(m)]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:  # noqa: ANN001
    with database_url(request.param, tmp_path) as url:
        yield url


def test_a_silence_keeps_a_breach_quiet_and_is_announced_once_across_a_kill(
    tmp_path, emu: SlackEmulator, db_url: str
) -> None:  # noqa: ANN001
    def bot(name: str):  # noqa: ANN202
        return running_bot(
            tmp_path, db_url, socket_mode=False, emu=emu, config_data=SIGNAL_CONFIG, name=name
        )

    with bot("first") as first:
        refused = answer(emu, "silence delivery csat 1h carrier outage", AGENT)
        assert "supervisors" in refused.lower() and "S-1" not in refused
        said = answer(emu, "silence delivery csat 1h carrier outage, INC-12")
        assert "S-1" in said and "CSAT alerts" in said
        emu.wait_for(lambda: len(posts(emu, "S-1*: *CSAT alerts*")) == 1, timeout=20)
        assert "carrier outage, INC-12" in shown(posts(emu, "S-1*")[0])
        # A second silence of the same rules is refused while this one runs.
        assert "already silences" in answer(emu, "silence delivery csat 2h again")

        first.ingest(*[item(score=2, comment=f"bad {i}") for i in range(5)])  # CSAT 0 %, n=5
        listed = emu.wait_for(
            lambda: (a := answer(emu, "silences")) and "1 breach" in a and a,
            timeout=30,
            message="the breach was not recorded",
        )
        assert "S-1" in listed and "carrier outage" in listed
        stats = answer(emu, "stats delivery 1d")
        assert "Breaches kept quiet by silences" in stats and "1 breach, last" in stats
        # The team's people see it in App Home and in the digest.
        assert emu.open_app_home(AGENT).ok
        home = emu.wait_for(lambda: shown(emu.home(AGENT)), timeout=20)
        assert "Silenced alerts" in home and "S-1" in home and "carrier outage" in home
        digest = answer(emu, "digest delivery", AGENT)
        assert "*Silenced*" in digest and "CSAT alerts silenced until" in digest
        assert not posts(emu, "CSAT 0 below 80")  # no case while silenced
        # Time passes while the bot is down hard: the silence's end is due when it comes back.
        _move_back(db_url, timedelta(hours=1, minutes=1))
        first.proc.kill()
        first.proc.wait()

    with bot("second"):
        # The expiry job (every minute) ends it and says so once; the breach that lasts then opens its case.
        end = emu.wait_for(
            lambda: next(iter(posts(emu, "the silence of *CSAT alerts*")), None),
            timeout=90,
            message=f"no end post: {emu.summary()}",
        )
        assert "1 breach recorded while silenced" in shown(end)
        emu.wait_for(lambda: len(posts(emu, "CSAT 0 below 80")) == 1, timeout=90)

        # Started and ended early by a supervisor: two more posts, one each.
        said = answer(emu, "silence delivery all 4h migration")
        # Its id comes from the database (PostgreSQL's sequence also counted the refused duplicate).
        ref = re.search(r"(S-\d+): All alerts", said).group(1)
        emu.wait_for(lambda: len(posts(emu, f"{ref}*: *All alerts*")) == 1, timeout=20)
        assert "There is no silence S-99" in answer(emu, "unsilence S-99")
        assert f"{ref} ended" in answer(emu, f"unsilence {ref}")
        emu.wait_for(lambda: len(posts(emu, "ended early by")) == 1, timeout=20)
        assert f"{ref} was already ended by <@U0SUPER1>" in answer(emu, f"unsilence {ref}")

    assert len(posts(emu, "S-1*: *CSAT alerts*")) == 1
    assert len(posts(emu, "the silence of *CSAT alerts*")) == 1
    assert len(posts(emu, f"{ref}*: *All alerts*")) == 1
    assert len(posts(emu, "ended early by")) == 1


def _move_back(url: str, by: timedelta) -> None:
    """The silences as if started `by` earlier: a 1h silence moved back 61 minutes is past its end."""
    engine = make_engine(url)
    try:
        with make_sessions(engine).begin() as s:
            for row in s.scalars(select(Silence)):
                row.created_at, row.starts_at = row.created_at - by, row.starts_at - by
                row.ends_at = row.ends_at - by
    finally:
        engine.dispose()
