"""A fresh emulator per test, failing the test on any error inside the emulator itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slack_emulator import SlackEmulator
from tests.emulator import running


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with running() as emulator:
        yield emulator
