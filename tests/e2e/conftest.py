"""The emulator as Slack for every end-to-end test; afterwards, every request it made must have been
answered in time, and nothing the bot answered may have broken Slack's rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import CHANNELS, USERS


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(channels=CHANNELS, users=USERS) as emulator:
        yield emulator
        late = [(d.kind, d.payload.get("type"), d.status) for d in emulator.deliveries if not d.ok]
        assert late == [], f"requests Slack would have seen fail: {late}"
        assert [p for d in emulator.deliveries for p in d.problems] == []
        assert emulator.internal_errors == []
