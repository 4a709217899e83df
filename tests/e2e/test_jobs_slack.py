"""Time-driven work seen in Slack: a threshold breach opens one case right after ingestion and its recovery
is told in place and in the thread; `/feedback digest` answers with the team's digest, to the asker only."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from slack_emulator import SlackEmulator
from tests.conftest import CONFIG
from tests.e2e.harness import running_bot
from tests.factories import item

CH, SUPER = "C0DELIVERY", "U0SUPER1"


def test_breach_opens_one_threshold_case_and_recovery_is_told_in_place_and_in_the_thread(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    config = copy.deepcopy(CONFIG)
    config["teams"]["delivery"]["thresholds"] = [
        {"metric": "csat", "below": 80, "window": "1h", "min_responses": 5}
    ]
    with running_bot(
        tmp_path,
        f"sqlite:///{tmp_path / 'breach.db'}",
        socket_mode=False,
        emu=emu,
        config_data=config,
    ) as bot:
        bot.ingest(
            *[item(score=2, comment=f"bad {i}") for i in range(5)]
        )  # CSAT 0 % over 5 responses

        def breach_messages() -> list[dict]:
            return [m for m in emu.messages(CH) if "CSAT 0 below 80" in json.dumps(m)]

        emu.wait_for(lambda: len(breach_messages()) == 1, timeout=20)
        bot.ingest(*[item(score=1) for _ in range(3)])  # still breached: nothing more is posted
        [message] = breach_messages()
        assert "over the last 1h" in json.dumps(message) and "n=5" in json.dumps(message)

        bot.ingest(
            *[item(score=5) for _ in range(32)]
        )  # 32 of 40 satisfied: CSAT 80, no longer below 80
        emu.wait_for(
            lambda: any("Recovered" in r.get("text", "") for r in emu.replies(CH, message["ts"])),
            timeout=90,
        )
        assert "Recovered at" in json.dumps(emu.message(CH, message["ts"]))
        assert len(breach_messages()) == 1


def test_feedback_digest_answers_the_asker_with_the_channels_team_digest(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    with running_bot(
        tmp_path, f"sqlite:///{tmp_path / 'digest.db'}", socket_mode=False, emu=emu
    ) as bot:
        bot.ingest(
            item(score=1, comment="The parcel was late"), item(score=5, comment="Lovely courier")
        )
        answer = emu.slash_command("digest", SUPER, CH)
        shown = json.dumps(answer.response)
        assert answer.status == 200 and answer.response["response_type"] == "ephemeral"
        assert "Huddle digest" in shown and "Delivery Ops" in shown and "2 responses" in shown
        assert "The parcel was late" in shown and "Lovely courier" in shown
        wrong = emu.slash_command("digest nosuchteam", SUPER, CH)
        assert "There is no team `nosuchteam`" in json.dumps(wrong.response)
