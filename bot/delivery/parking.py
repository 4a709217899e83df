"""Posts Slack refused for a reason a person can fix (a token, a scope, a channel): parked, not failed."""

# A parked post keeps its place: the posts behind it (its channel's, or all for a token) wait too, the oldest
# parked post of a scope is tried again with a backoff, and when it gets through the rest follow in order.
# The state is `parked`; Slack's error is in `last_error`; `result` holds the parking record (record()).

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The token itself: no post can go out until it is fixed, so every post waits.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "team_access_not_granted",
        "no_permission",
        "org_login_required",
        "ekm_access_denied",
    }
)
# The channel: the bot was removed, the channel deleted or archived, or posting there restricted.
CHANNEL_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
)
# A scope the app lacks: it is per Web API method, and each worker's lane calls its own methods (charts
# upload files, the rest post messages), so the lane waits and the other keeps going.
SCOPE_ERRORS = frozenset({"missing_scope"})

EVERY_POST = "*"  # the scope of a token error
LANE = "lane:"  # + the worker's name: the scope of a missing scope

# Tried again 1 minute after parking, then 2, 4, … up to every 30 minutes; at start-up and on
# `loopbot outbox retry` at once.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(minutes=30)


def scope_of(error: str, channel: str | None, lane: str) -> str | None:
    """What waits when Slack answers `error` to a post to `channel` from the lane `lane`; None: not parked."""
    if error in TOKEN_ERRORS:
        return EVERY_POST
    if error in SCOPE_ERRORS:
        return LANE + lane
    if error in CHANNEL_ERRORS and channel:
        return channel
    return None


def next_retry(tries: int, first: timedelta, longest: timedelta) -> timedelta:
    return min(longest, first * 2 ** min(max(tries - 1, 0), 20))


def record(previous: dict[str, Any] | None, scope: str, now: datetime, needed: str | None) -> dict:
    """The parking record of a post parked (again) in `scope`: parked again in the same scope, it keeps
    its first time and counts one more try."""
    same = bool(previous) and previous.get("parked_in") == scope
    return {
        "parked_in": scope,
        "since": previous["since"] if same else now.isoformat(),
        "tries": (previous.get("tries", 0) if same else 0) + 1,
        "needed": needed,
    }


def waits(scope: str) -> str:
    """What a scope pauses, in words."""
    if scope == EVERY_POST:
        return "every post"
    if scope.startswith(LANE):
        return f"the posts of {scope.removeprefix(LANE)}"
    return f"posts to {scope}"


def fix(error: str, scope: str, needed: str | None = None) -> str:
    """What a person does about it, said the same in /healthz, the log and check-config."""
    then = "; then `loopbot outbox retry` sends the waiting posts at once"
    if scope == EVERY_POST:
        return (
            f"Slack refused the bot token ({error}): put a valid Bot User OAuth Token (xoxb-…) in "
            f"SLACK_BOT_TOKEN and restart (a restart retries at once)"
        )
    if scope.startswith(LANE):
        return (
            f"the Slack app lacks the scope {needed or '(see manifest.yaml)'}: add it (manifest.yaml "
            f"lists every scope) and reinstall the app{then}"
        )
    if error == "not_in_channel":
        return f"invite the bot to {scope} with /invite @Loopbot{then}"
    if error == "is_archived":
        return f"unarchive {scope}, or configure another channel and restart{then}"
    if error == "channel_not_found":
        return f"{scope} does not exist or the bot cannot see it: check the id in the YAML{then}"
    return f"Slack answered {error} for {scope}: check the channel's posting permissions{then}"


@dataclass(frozen=True)
class Parked:
    """What waits on one fix: /healthz, /metrics, check-config and `loopbot outbox retry` show it."""

    scope: str  # a channel id, EVERY_POST, or LANE + a worker's name
    error: str  # Slack's error code
    posts: int  # parked, plus those held behind them (in the channel, or all for a token)
    since: datetime  # first parked
    next_retry: datetime  # when its oldest post is tried again
    needed: str | None = None  # the missing scope, when Slack said

    @property
    def channel(self) -> str | None:
        return None if self.scope == EVERY_POST or self.scope.startswith(LANE) else self.scope

    @property
    def label(self) -> str:
        """The scope as a metric label: a channel id, `all`, or `lane:` and a worker's name."""
        return "all" if self.scope == EVERY_POST else self.scope

    @property
    def waits(self) -> str:
        return waits(self.scope)

    @property
    def fix(self) -> str:
        return fix(self.error, self.scope, self.needed)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "waits": self.waits,
            "error": self.error,
            "posts": self.posts,
            "since": self.since.isoformat(),
            "next_retry": self.next_retry.isoformat(),
            "fix": self.fix,
        }
