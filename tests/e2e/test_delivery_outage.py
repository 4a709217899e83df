"""The outbox worker while its database is away (a SQLite file's folder gone, a PostgreSQL server of the test's
own stopped): one log line when delivery stops, one when it resumes, and rounds spaced out in between."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from bot.cases.lifecycle import Cases
from bot.feedback.ingest import Ingestor
from slack_emulator import SlackEmulator
from storage import migrate
from storage.db import make_engine, make_sessions
from tests.api.test_outage import throwaway_pg  # noqa: F401 - the fixture, for the PostgreSQL run
from tests.e2e.harness import CHANNELS, USERS
from tests.e2e.test_delivery_posts import CH, make_worker, open_cases
from tests.factories import item

OUTAGE_S = 2.0


@dataclass
class Database:
    engine: Engine
    away: Callable[[], None]  # the database goes away ...
    back: Callable[[], None]  # ... and comes back


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        folder, moved = tmp_path / "data", tmp_path / "moved"
        folder.mkdir()
        engine = make_engine(f"sqlite:///{folder / 'loopbot.db'}")

        def away() -> None:
            # Open connections would go on reading the moved file; a lost disk takes them too.
            folder.rename(moved)
            engine.dispose()

        yield Database(engine, away, lambda: moved.rename(folder))
    else:
        pg = request.getfixturevalue("throwaway_pg")
        engine = make_engine(pg.url, connect_args={"connect_timeout": 3})
        yield Database(engine, pg.stop, pg.start)
    engine.dispose()


def test_a_database_outage_is_one_line_when_delivery_stops_and_one_when_it_resumes(
    database: Database, config, caplog
) -> None:  # noqa: ANN001
    migrate.upgrade(database.engine)
    sessions = make_sessions(database.engine)
    cases, ingestor = Cases(sessions, config), Ingestor(sessions, config)
    connects: list[float] = []
    event.listen(database.engine, "do_connect", lambda *_: connects.append(time.monotonic()))
    with SlackEmulator(channels=CHANNELS, users=USERS) as slack:
        worker = make_worker(slack, sessions, cases, config)
        worker.poll_s = 0.01  # a round every 10 ms: without a backoff, hundreds in the outage
        worker.outage_s = (0.1, 0.4)  # the default's 1 s doubling to 30 s, shortened
        worker.start()
        try:
            [before] = open_cases(ingestor, item(score=1, comment="before"))
            worker.wake()
            slack.wait_for(lambda: any(before in m["text"] for m in slack.messages(CH)))
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="loopbot.outbox"):
                database.away()
                started = time.monotonic()
                time.sleep(OUTAGE_S)
                tried = sum(1 for t in connects if t >= started)
                database.back()
                slack.wait_for(lambda: "resumed" in caplog.text, timeout=15)
            [after] = open_cases(ingestor, item(score=1, comment="after"))
            worker.wake()
            slack.wait_for(lambda: any(after in m["text"] for m in slack.messages(CH)))
        finally:
            worker.stop()
    lines = [r for r in caplog.records if r.name == "loopbot.outbox"]
    assert [r.levelname for r in lines] == ["ERROR", "WARNING"], caplog.text
    stopped, resumed = (r.getMessage() for r in lines)
    assert "outbox delivery stopped, database unavailable: " in stopped
    assert "\n" not in stopped and lines[0].exc_info is None  # one line, no traceback
    assert "outbox delivery resumed after" in resumed
    # Rounds at 0.1, 0.3, 0.7, 1.1, 1.5, 1.9 s: a few tries (each may connect twice), not hundreds.
    assert 1 <= tried <= 16, tried
