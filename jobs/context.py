"""What every job gets: the core services and the database, by reference; jobs take team keys, not objects."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.action_escalations import ActionEscalations
from bot.alerts.escalations import Escalations
from bot.alerts.silences import Silences
from bot.alerts.thresholds import Thresholds
from bot.cases.verification import Verifier
from bot.clock import utcnow
from bot.delivery.retention import Retention
from config.teams import LoopbotConfig


def replica_name() -> str:
    """Who claimed a fire, for the claims table and the logs: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobContext:
    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]
    config: LoopbotConfig
    thresholds: Thresholds
    escalations: Escalations
    retention: Retention
    verifier: Verifier
    action_escalations: ActionEscalations
    notify: Callable[[], None] = lambda: None  # wake the outbox worker: a post is waiting
    opened: Callable[[str, str], None] = lambda team, kind: None  # count a case opened (/metrics)
    clock: Callable[[], datetime] = utcnow
    replica: str = field(default_factory=replica_name)
    silences: Silences | None = None  # built from the database and config when not given

    def __post_init__(self) -> None:
        if self.silences is None:
            self.silences = Silences(self.sessions, self.config, reads=self.reads)
