"""User-facing errors: what went wrong and what to do instead; the Slack edge shows them ephemerally.

An error names people and times as data, not as Slack markup: its `template` holds `{user}`, `{users}` and
`{at}` where they go, and each edge renders them its own way (Slack: mentions and the team's local time,
bot.slack.app; the CLI and the API: the plain `message`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo


class UserFacingError(Exception):
    """A mistake or refusal a person can act on."""

    def __init__(
        self,
        template: str,
        *,
        field: str | None = None,
        user: str | None = None,
        users: Sequence[str] = (),
        at: datetime | None = None,
        tz: tzinfo | None = None,
    ):
        self.template = template
        # The input the message is about (a modal shows it under that field).
        self.field = field
        self.user = user  # the person the message names, e.g. who got there first
        self.users = tuple(users)  # the people it lists, e.g. who may do it instead
        self.at = at
        self.tz = tz  # the zone `at` is shown in: the team's
        super().__init__(self.message)

    def render(
        self, person: Callable[[str], str], moment: Callable[[datetime, tzinfo | None], str]
    ) -> str:
        # Plain replacement, not str.format: messages quote what people typed, braces included.
        text = self.template
        if self.user is not None:
            text = text.replace("{user}", person(self.user))
        if "{users}" in text:
            names = ", ".join(person(u) for u in self.users) if self.users else "none configured"
            text = text.replace("{users}", names)
        if self.at is not None:
            text = text.replace("{at}", moment(self.at, self.tz))
        return text

    @property
    def message(self) -> str:
        """Plain text: user ids as they are, the time as ISO 8601 in the team's zone."""
        return self.render(str, lambda at, tz: at.astimezone(tz).isoformat(timespec="minutes"))


class NotFound(UserFacingError):
    pass


class PermissionDenied(UserFacingError):
    pass


class InvalidInput(UserFacingError):
    pass


class InvalidTransition(UserFacingError):
    """The case is not in a state where this action applies; says the state and who put it there."""


class AlreadyDone(InvalidTransition):
    """Someone (maybe the same person, maybe a Slack retry) got there first: `user`."""

    @property
    def by(self) -> str | None:
        return self.user
