"""Privacy end to end (SPEC §11): `loopbot run` against the emulator, with Delivery Ops `privacy: team` and Support
left open. Someone outside Delivery Ops is refused its list, show and digest with a message saying whom to ask, and
finds none of its cases in `list all` or App Home; its members, supervisor and a leader see them; Support reads as
before. Staff text with an e-mail address and card numbers is stored masked and shown masked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from slack_emulator import SlackEmulator
from storage.db import make_engine, make_sessions
from storage.models import CaseEvent
from tests.conftest import CONFIG
from tests.e2e.harness import database_url, running_bot
from tests.factories import item

AGENT, SUPER, LEADER, STRANGER = "U0AGENT1", "U0SUPER1", "U0LEADER1", "U0STRANGER"
DELIVERY, SUPPORT, NO_TEAM = "C0DELIVERY", "C0SUPPORT", "C0LEADERS"
PRIVATE = copy.deepcopy(CONFIG)
PRIVATE["teams"]["delivery"]["privacy"] = "team"
REFUSED = "private to its members, supervisors and leaders"
EMAIL, CARD, CARD_GROUPED = "jane.doe@example.com", "4111111111111111", "5500 0055 5555 5559"


def answer(emu: SlackEmulator, text: str, user: str, channel: str = DELIVERY) -> str:
    delivery = emu.slash_command(text, user, channel)
    assert delivery.ok, delivery
    return json.dumps(delivery.response, ensure_ascii=False)


def names(text: str, ref: str) -> bool:
    return re.search(rf"{ref}(?!\d)", text) is not None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:  # noqa: ANN001
    with database_url(request.param, tmp_path) as url:
        yield url


def test_a_private_teams_cases_are_for_its_people_and_staff_text_is_masked(
    tmp_path, emu: SlackEmulator, db_url: str
) -> None:  # noqa: ANN001
    with running_bot(tmp_path, db_url, socket_mode=False, emu=emu, config_data=PRIVATE) as bot:
        [hidden] = bot.ingest(item(score=1, comment="Parcel never arrived, third time"))["cases"]
        [shown] = bot.ingest(item(score=1, team="support", comment="The app crashed"))["cases"]
        ts = bot.case_message(hidden)["ts"]
        bot.case_message(shown, SUPPORT)

        # Outside the team: refused, told whose cases they are and whom to ask, and nothing of them.
        for text, channel in [
            ("list delivery", NO_TEAM),
            ("list", DELIVERY),  # the channel's team
            (f"show {hidden}", NO_TEAM),
            ("digest delivery", NO_TEAM),
            (f"note {hidden} who is this customer?", NO_TEAM),
        ]:
            said = answer(emu, text, STRANGER, channel)
            assert REFUSED in said and "supervisor of Delivery Ops (<@U0SUPER1>)" in said, text
            assert "never arrived" not in said
            assert set(re.findall(r"FB-\d+", said)) <= ({hidden} if hidden in text else set())
        listed = answer(emu, "list all", STRANGER, NO_TEAM)
        assert names(listed, shown) and not names(listed, hidden)
        assert "all teams you may see" in listed
        assert emu.open_app_home(STRANGER).ok
        home = emu.wait_for(lambda: emu.home(STRANGER), timeout=20)
        assert not names(json.dumps(home), hidden) and "Delivery Ops" not in json.dumps(home)
        # Support is open, as before: anyone lists and reads its cases.
        assert "The app crashed" in answer(emu, f"show {shown}", STRANGER, NO_TEAM)
        assert names(answer(emu, "list support", STRANGER, NO_TEAM), shown)

        # Its member, its supervisor and a leader see everything.
        for user in (AGENT, SUPER, LEADER):
            assert names(answer(emu, "list delivery", user, NO_TEAM), hidden), user
            assert "never arrived" in answer(emu, f"show {hidden}", user, NO_TEAM), user
            digest = answer(emu, "digest delivery", user, NO_TEAM)
            assert REFUSED not in digest and "Delivery Ops" in digest, user
            everything = answer(emu, "list all", user, NO_TEAM)
            assert names(everything, hidden) and names(everything, shown), user
        assert emu.open_app_home(AGENT).ok
        emu.wait_for(lambda: names(json.dumps(emu.home(AGENT) or {}), hidden), timeout=20)

        # Staff text is masked before it is stored; the answer, the timeline and the thread show it masked.
        said = answer(emu, f"note {hidden} mailed {EMAIL}, card {CARD_GROUPED}", AGENT)
        assert "Note added" in said
        said = answer(
            emu,
            f"resolve {hidden} cause=late_delivery outcome=fixed refunded card {CARD}, receipt to "
            f"{EMAIL}",
            SUPER,
        )
        assert "resolved" in said
        detail = answer(emu, f"show {hidden}", AGENT, NO_TEAM)
        assert "mailed [email], card [card]" in detail
        assert "refunded card [card], receipt to [email]" in detail
        thread = emu.wait_for(
            lambda: (
                (r := json.dumps(emu.replies(DELIVERY, ts))) and "receipt to [email]" in r and r
            ),
            timeout=20,
            message=f"no masked thread lines: {emu.summary()}",
        )
        assert "mailed [email], card [card]" in thread

    engine = make_engine(db_url)
    try:
        with make_sessions(engine)() as s:
            rows = {e.kind: e.details for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))}
    finally:
        engine.dispose()
    assert rows["note"] == {"text": "mailed [email], card [card]"}
    assert rows["resolved"]["action"] == "refunded card [card], receipt to [email]"
    everything = json.dumps([rows, detail, thread, emu.summary()])
    for secret in (EMAIL, CARD, CARD_GROUPED, "5500 0055"):
        assert secret not in everything
