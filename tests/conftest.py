"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when configured) and a config."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from bot.cases.lifecycle import Cases
from bot.feedback.ingest import Ingestor
from config.loader import parse_config
from config.teams import LoopbotConfig
from storage import migrate
from storage.db import make_engine, make_read_sessions, make_sessions

PG_URL = os.environ.get("LOOPBOT_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"

CONFIG = {
    "defaults": {"timezone": "UTC", "sla": {"ack": "30m", "resolve": "2d"}},
    "leaders": ["U0LEADER1"],
    "leaders_channel": "C0LEADERS",
    "teams": {
        "delivery": {
            "name": "Delivery Ops",
            "channel": "C0DELIVERY",
            "supervisors": ["U0SUPER1"],
            "members": ["U0AGENT1", "U0AGENT2"],
            "timezone": "America/New_York",
            "sla": {"ack": "15m", "resolve": "1d"},
        },
        "support": {"name": "Support", "channel": "C0SUPPORT", "supervisors": ["U0SUPER2"]},
    },
    "categories": {
        "late_delivery": {"domain": "process", "keywords": ["late", "delay", "never arrived"]},
        "rude_staff": {"domain": "people", "keywords": ["rude", "impolite"]},
        "app_error": {"domain": "technology", "keywords": ["crash", "error", "bug"]},
    },
    "routing": {"post-delivery": "delivery", "chat": "support"},
}


@pytest.fixture
def config() -> LoopbotConfig:
    return parse_config(CONFIG, "tests/conftest.py")


def _postgres_engine() -> Iterator[Engine]:
    if not PG_URL:
        if IN_CI:
            pytest.fail(
                "CI=true but LOOPBOT_TEST_DATABASE_URL is not set: the PostgreSQL run is required in CI"
            )
        pytest.skip("LOOPBOT_TEST_DATABASE_URL not set: PostgreSQL run skipped")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL at LOOPBOT_TEST_DATABASE_URL is unreachable: {exc.orig}")
        pytest.skip(f"PostgreSQL unreachable: {exc.orig}")
    # A schema of its own per test: tests stay independent and can run in parallel.
    engine = make_engine(PG_URL, connect_args={"options": f"-c search_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # noqa: ANN001
    """A migrated, empty database: SQLite always, PostgreSQL when LOOPBOT_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'loopbot.db'}")
        migrate.upgrade(eng)
        yield eng
        eng.dispose()
    else:
        for eng in _postgres_engine():
            migrate.upgrade(eng)
            yield eng


@pytest.fixture
def sessions(engine):  # noqa: ANN001, ANN201
    return make_sessions(engine)


@pytest.fixture
def cases(engine, sessions, config) -> Cases:  # noqa: ANN001
    # As `loopbot run` builds it: what only reads (get, get_for) in read-only units, changes in locking ones.
    return Cases(sessions, config, reads=make_read_sessions(engine))


@pytest.fixture
def ingestor(sessions, config, cases) -> Ingestor:  # noqa: ANN001
    return Ingestor(sessions, config)
