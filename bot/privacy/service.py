"""What `loopbot purge`, `erase` and `audit` call: the retention purge the daily job runs, erasure and the
audit log, on one database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.delivery.retention import Retention
from bot.privacy.audit import Audit
from bot.privacy.erase import Erasure
from config.teams import LoopbotConfig


class Privacy:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.retention = Retention(sessions, config)
        self.erasure = Erasure(sessions, config)
        self.audit = Audit(sessions, config, reads=reads)
