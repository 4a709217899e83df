"""Read-only answers for people: case lists and App Home data, each one unit of work over bot.reports.queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.cases.permissions import is_leader, may_see, named_team, private, visible
from bot.clock import utcnow
from bot.reports import queries
from bot.reports.queries import CaseList, HomeData, ListFilter
from config.teams import LoopbotConfig, Team


class Overview:
    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig):
        self.sessions = sessions  # read-only units: storage.db.make_read_sessions
        self.config = config

    def team(self, key: str) -> Team:
        return named_team(self.config, key)

    def list_cases(
        self,
        *,
        team: str | None,
        filter: ListFilter,
        user: str,
        now: datetime | None = None,
        limit: int = 20,
    ) -> CaseList:
        """Cases of one team, or of every team `user` may see when `team` is None; PermissionDenied for a
        private team's (SPEC §11) that `user` may not see."""
        named = self.team(team) if team else None
        if named is not None and not may_see(self.config, named, user):
            raise private(named)
        teams = [named] if named else visible(self.config, self.config.teams.values(), user)
        with self.sessions.begin() as s:
            return queries.list_cases(
                s,
                teams={t.key: t for t in teams},
                filter=filter,
                user=user,
                now=now or utcnow(),
                limit=limit,
            )

    def home(self, user: str, now: datetime | None = None) -> HomeData:
        teams = self.teams_of(user)
        with self.sessions.begin() as s:
            every = {t.key: t for t in visible(self.config, self.config.teams.values(), user)}
            return queries.home_data(
                s,
                user=user,
                teams={t.key: t for t in teams},
                now=now or utcnow(),
                all_teams=every,
            )

    def teams_of(self, user: str) -> list[Team]:
        """Leaders see every team; others the teams that list them, or every team when none does
        (a team without a member list is open to anyone in its channel, unless it is private)."""
        if is_leader(self.config, user):
            return list(self.config.teams.values())
        mine = [t for t in self.config.teams.values() if user in t.members or user in t.supervisors]
        return mine or visible(
            self.config, (t for t in self.config.teams.values() if not t.members), user
        )
