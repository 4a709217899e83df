"""SPEC §11 as an operator and the people in Slack meet it: `loopbot run` against the emulator, with `loopbot
audit`, `erase` and `purge` run beside it on the same database. Lookups and shows through the real handlers
are in the audit log; an erasure updates the case message in Slack to show `[erased]` and leaves an entry
that names no one; a purge removes what is old and says so. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import Bot, database_url, running_bot
from tests.e2e.test_cli import base_env, loopbot
from tests.factories import item

CH = "C0DELIVERY"
CUSTOMER, OLD = "C-PRIV-77", "C-PRIV-OLD"
COMMENT = "The driver threw my parcel over the fence"
SUPER, OTHER_SUPER, AGENT = "U0SUPER1", "U0SUPER2", "U0AGENT1"


@pytest.fixture(params=["sqlite", "postgresql"])
def bot(request, tmp_path, emu) -> Iterator[Bot]:  # noqa: ANN001
    with (
        database_url(request.param, tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu) as running,
    ):
        running.env = base_env(tmp_path, tmp_path / "loopbot.yaml", DATABASE_URL=url)  # type: ignore[attr-defined]
        yield running


def cli(bot: Bot, *args: str) -> subprocess.CompletedProcess:
    result = loopbot(*args, env=bot.env)  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr
    return result


def shown(message: dict | None) -> str:
    return json.dumps(message or {}, ensure_ascii=False)


def test_lookups_shows_erasure_and_purge_from_slack_to_the_audit_log(bot: Bot) -> None:
    [ref] = bot.ingest(item(score=1, comment=COMMENT, customer=CUSTOMER))["cases"]
    long_ago = (datetime.now(UTC) - timedelta(days=800)).isoformat()
    bot.ingest(item(score=4, customer=OLD, submitted_at=long_ago))
    message = bot.case_message(ref)
    assert "over the fence" in shown(message)
    for user, text in ((AGENT, f"show {ref}"), (OTHER_SUPER, f"show {ref}")):
        assert bot.emu.slash_command(text, user, CH).ok
    looked_up = bot.emu.slash_command(f"customer {CUSTOMER}", SUPER, CH)
    assert looked_up.ok and "over the fence" in shown(looked_up.response)

    lines = cli(bot, "audit").stdout.splitlines()
    # The member's show is of their own team's case: not recorded.
    assert [line.split("  ")[1:] for line in lines] == [
        [OTHER_SUPER, "show_other_team", f"{ref} of delivery"],
        [SUPER, "customer_lookup", f"customer {CUSTOMER}"],
    ]

    erased = cli(bot, "erase", "--customer", CUSTOMER).stdout
    assert "erased: 1 responses deleted; 1 cases marked [erased]" in erased
    assert "1 audit lookups anonymised" in erased and CUSTOMER not in erased
    # The case message no longer shows the comment, the marker instead; the thread says when.
    updated = bot.emu.wait_for(
        lambda: (
            "[erased]" in shown(bot.emu.message(CH, message["ts"]))
            and bot.emu.message(CH, message["ts"])
        ),
        timeout=15,
        message=f"the case message was never updated: {bot.emu.summary()}",
    )
    assert "over the fence" not in shown(updated)
    assert "Comment [erased] at the customer's request" in shown(updated)
    bot.emu.wait_for(
        lambda: any(
            "Customer data [erased]" in r.get("text", "")
            for r in bot.emu.replies(CH, message["ts"])
        ),
        timeout=15,
    )
    today = datetime.now(UTC).date()
    since_today = cli(bot, "audit", "--since", today.isoformat()).stdout
    assert CUSTOMER not in since_today
    assert "customer_lookup  customer [erased]" in since_today
    assert "  cli  erase  1 responses deleted" in since_today
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert cli(bot, "audit", "--since", tomorrow).stdout == ""

    purged = cli(bot, "purge").stdout
    assert purged.startswith("purged what is older than 730 days (before ")
    assert "1 feedback rows deleted" in purged
    assert "  cli  purge  1 feedback rows deleted" in cli(bot, "audit").stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("erase",), "loopbot erase: name the customer: --customer ID"),
        (("erase", "--customer", "  "), "loopbot erase: name the customer: --customer ID"),
        (
            ("audit", "--since", "last week"),
            "loopbot audit: --since 'last week' is not a date: write YYYY-MM-DD or an ISO 8601 time",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    result = loopbot(*args, env=base_env(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [error] and result.stdout == ""
