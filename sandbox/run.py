"""`loopbot sandbox`: the Slack emulator, demo data and a live trickle of feedback, for `loopbot run` to serve."""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.cases.lifecycle import Cases
from bot.feedback.ingest import Ingestor
from bot.reports.digest import enqueue_digest
from config.loader import parse_config
from config.settings import Settings
from config.teams import LoopbotConfig
from sandbox.demo.config import DEMO_CONFIG, DISPLAY_NAMES
from sandbox.demo.feedback import live
from sandbox.demo.seed import SeedSummary, seed
from slack_emulator import SlackEmulator
from storage import migrate
from storage.db import make_engine, make_sessions

log = logging.getLogger("loopbot.sandbox")

HISTORY_DAYS = 60
TRICKLE_S = (2.0, 6.0)  # a new response every few seconds
# Now and then a burst of complaints in one category, enough to break that team's complaints rule.
BURST_EVERY = 40
BURST_SIZE = 10


@dataclass
class Sandbox:
    emulator: SlackEmulator
    settings: Settings
    config: LoopbotConfig
    channels: dict[str, str]  # id -> name, as the emulator and the page show them


def prepare(data_dir: Path, port: int, host: str = "127.0.0.1") -> Sandbox:
    """A running emulator playing the demo workspace, and settings that point Loopbot at it over Socket Mode.

    The settings are built here, never from the environment or a .env file: a sandbox must not pick up a real
    workspace's tokens or database.
    """
    config = parse_config(DEMO_CONFIG, "sandbox/demo/config.py")
    channels = {team.channel: _channel_name(team.name) for team in config.teams.values()}
    if config.leaders_channel:
        channels[config.leaders_channel] = "leaders"
    emu = SlackEmulator(channels=channels, users=dict(DISPLAY_NAMES)).start()
    emu.deliver_socket()
    settings = Settings(
        slack_bot_token=emu.bot_token,
        slack_app_token=emu.app_token,
        slack_api_url=emu.api_url,
        database_url=f"sqlite:///{data_dir / 'sandbox.db'}",
        ingest_token=secrets.token_urlsafe(16),
        host=host,
        port=port,
    )
    return Sandbox(emu, settings, config, channels)


def seed_history(sandbox: Sandbox, now: datetime | None = None) -> SeedSummary:
    """60 days of the demo teams' feedback and cases; only the posts of cases still open go to Slack."""
    engine = make_engine(sandbox.settings.database_url)
    try:
        migrate.upgrade(engine)
        sessions = make_sessions(engine)
        cases = Cases(sessions, sandbox.config)
        return seed(
            sessions,
            sandbox.config,
            cases,
            Ingestor(sessions, sandbox.config),
            now=now or datetime.now(UTC),
            days=HISTORY_DAYS,
            mark_posted=True,
        )
    finally:
        engine.dispose()


def post_digests(
    sessions: sessionmaker[Session], config: LoopbotConfig, now: datetime | None = None
) -> None:
    """Each team's huddle digest, as if its shift just began: the channels open on one, not on a silent start."""
    now = now or datetime.now(UTC)
    with sessions.begin() as s:
        for team in config.teams.values():
            enqueue_digest(s, team, at=now, now=now)


class Trickle:
    """New survey responses every few seconds through the real ingestion path (cases, threshold rules)."""

    def __init__(
        self,
        ingestor: Ingestor,
        config: LoopbotConfig,
        *,
        seed: int = 11,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.ingestor = ingestor
        self.teams = {key: team.timezone for key, team in config.teams.items()}
        self.categories = list(config.categories)
        self.rng = random.Random(seed)
        self.clock = clock
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="loopbot-sandbox-trickle", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> int:
        """Store the next response (or burst); returns how many responses were stored."""
        self.ticks += 1
        now = self.clock()
        items = [live(self.rng, teams=self.teams, now=now)]
        if self.ticks % BURST_EVERY == 0:
            items += self._burst(now)
        valid, errors = self.ingestor.validate(items, now)
        if errors:
            log.warning(
                "sandbox trickle: %d generated items were refused: %s", len(errors), errors[:3]
            )
        return (
            self.ingestor.store(valid, default_source="sandbox", origin="api", now=now).accepted
            if valid
            else 0
        )

    def _run(self) -> None:
        while not self._stop.wait(self.rng.uniform(*TRICKLE_S)):
            try:
                self.tick()
            except Exception:  # the trickle is scenery: a failed tick must not end it
                log.exception("sandbox trickle: a tick failed")

    def _burst(self, now: datetime) -> list[dict]:
        team = self.rng.choice(list(self.teams))
        items = []
        for _ in range(BURST_SIZE):
            item = live(self.rng, teams={team: self.teams[team]}, now=now)
            item.update(
                metric="csat", score=1
            )  # a run of 1-star responses: cases, and a broken rule
            items.append(item)
        return items


def _channel_name(team_name: str) -> str:
    return "-".join(team_name.lower().split())


def serve_sandbox(host: str, port: int) -> int:
    """`loopbot sandbox`: the emulator, 60 days of demo data, Loopbot on them over Socket Mode, a live trickle
    and the page, until Ctrl-C."""
    import tempfile

    import wiring
    from bot.logs import configure
    from sandbox.demo.config import PERSONAS
    from sandbox.web import sandbox_router

    configure("text")
    trickles: list[Trickle] = []

    def started(core: wiring.Core) -> None:
        post_digests(core.sessions, box.config)
        trickles.append(Trickle(core.ingestor, box.config))
        trickles[-1].start()
        print(f"Loopbot sandbox: open http://{host}:{port}/sandbox", flush=True)

    with tempfile.TemporaryDirectory(prefix="loopbot-sandbox-") as data:
        box = prepare(Path(data), port, host)
        try:
            print(
                "Loopbot sandbox: generating 60 days of demo feedback (a few seconds)…", flush=True
            )
            seeded = seed_history(box)
            log.info(
                "sandbox: %s responses, %s cases seeded",
                f"{seeded.feedback:,}",
                f"{seeded.cases:,}",
            )
            router = sandbox_router(
                box.emulator, personas=PERSONAS, channels=box.channels, display_names=DISPLAY_NAMES
            )
            return wiring.serve(box.settings, box.config, routers=[router], started=started)
        finally:
            for trickle in trickles:
                trickle.stop()
            box.emulator.stop()
