"""`loopbot check-config` and `loopbot outbox retry` as an operator runs them, beside a running outbox worker:
the first says what is parked and how to fix it, the second sends the parked posts once it is fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cases.lifecycle import Cases
from bot.feedback.ingest import Ingestor
from slack_emulator import SlackEmulator
from storage import migrate
from storage.db import make_engine, make_sessions
from tests.conftest import CONFIG
from tests.e2e.harness import CHANNELS, USERS, database_url
from tests.e2e.test_cli import base_env, loopbot
from tests.e2e.test_delivery_posts import case_id, make_worker, open_cases
from tests.factories import item

SUPPORT = "C0SUPPORT"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_check_config_says_how_to_fix_a_parked_channel_and_outbox_retry_sends_its_posts(
    kind: str, tmp_path: Path, config
) -> None:  # noqa: ANN001
    path = tmp_path / "loopbot.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    with (
        SlackEmulator(channels=CHANNELS, users=USERS, not_in_channel={SUPPORT}) as slack,
        database_url(kind, tmp_path) as url,
    ):
        engine = make_engine(url)
        migrate.upgrade(engine)
        sessions = make_sessions(engine)
        cases = Cases(sessions, config)
        env = base_env(
            tmp_path,
            path,
            DATABASE_URL=url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_API_URL=slack.api_url,
            SLACK_SIGNING_SECRET="cli-signing-secret",
        )
        nothing = loopbot("outbox", "retry", env=env)
        assert (nothing.returncode, nothing.stdout) == (0, "nothing is parked\n"), nothing.stderr
        worker = make_worker(slack, sessions, cases, config)  # `loopbot run`'s, in this process
        [ref] = open_cases(Ingestor(sessions, config), item(score=1, team="support"))
        cases.acknowledge(ref, actor="U0SUPER2", source="command")
        assert worker.deliver_due() == 2
        assert worker.deliveries.post_state(f"case:{case_id(ref)}:open") == "parked"

        checked = loopbot("check-config", env=env)
        assert checked.returncode == 0, checked.stderr
        [line] = [w for w in checked.stderr.splitlines() if w.startswith("warning: outbox:")]
        assert (
            "2 post(s) waiting since" in line
            and "posts to C0SUPPORT parked (not_in_channel)" in line
        )
        assert "/invite @Loopbot" in line and "loopbot outbox retry" in line

        worker.start()
        try:
            still = loopbot("outbox", "retry", "--wait", "10", env=env)
            assert still.returncode == 1, still.stdout + still.stderr
            assert "posts to C0SUPPORT: 2 post(s) parked since" in still.stdout
            assert "still parked: posts to C0SUPPORT (not_in_channel): invite" in still.stderr
            slack.workspace.not_in_channel = frozenset()  # the bot is invited
            sent = loopbot("outbox", "retry", "--wait", "10", env=env)
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert "sent: posts to C0SUPPORT" in sent.stdout
            slack.wait_for(lambda: worker.deliveries.counts() == {"delivered": 2}, timeout=10)
        finally:
            worker.stop()
        [message] = slack.messages(SUPPORT)
        assert ref in message["text"] and len(slack.replies(SUPPORT, message["ts"])) == 1
        engine.dispose()
