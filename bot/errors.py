"""User-facing errors: what went wrong and what to do instead; the Slack edge shows them ephemerally."""

from __future__ import annotations


class UserFacingError(Exception):
    """A mistake or refusal a person can act on. The message is shown to them as is."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        # The input the message is about (a modal shows it under that field).
        self.field = field


class NotFound(UserFacingError):
    pass


class PermissionDenied(UserFacingError):
    pass


class InvalidInput(UserFacingError):
    pass


class InvalidTransition(UserFacingError):
    """The case is not in a state where this action applies; says the state and who put it there."""


class AlreadyDone(InvalidTransition):
    """Someone (maybe the same person, maybe a Slack retry) got there first."""

    def __init__(self, message: str, *, by: str | None = None):
        super().__init__(message)
        self.by = by
