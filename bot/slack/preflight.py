"""check-config's Slack half: does Slack accept the bot token, and can the bot post in every configured channel?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.deliveries import parked_at
from config.teams import LoopbotConfig

# auth.test answers these when the token itself is the problem; anything else (5xx, ratelimited) is Slack's.
REFUSED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "team_access_not_granted",
    "org_login_required",
    "ekm_access_denied",
}
INVITE = "invite the bot with /invite @Loopbot"


@dataclass
class Preflight:
    """What check-config prints: errors make it exit non-zero, warnings do not."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: str = ""


def channel_keys(config: LoopbotConfig) -> list[tuple[str, str]]:
    """(YAML key path, channel id) for every channel Loopbot posts to, in YAML order."""
    keys = [(f"teams.{key}.channel", team.channel) for key, team in config.teams.items()]
    if config.leaders_channel:
        keys.append(("leaders_channel", config.leaders_channel))
    return keys


def check_slack(
    client: WebClient, config: LoopbotConfig, api_url: str, database_url: str | None = None
) -> Preflight:
    """auth.test, then conversations.info per configured channel, then the posts parked in the database
    (`database_url`) with how to fix each; never prints a token (only Slack's error codes)."""
    out = _check_slack(client, config, api_url)
    for p in (parked_at(database_url) or []) if database_url else []:
        out.warnings.append(
            f"warning: outbox: {p.posts} post(s) waiting since {p.since:%Y-%m-%d %H:%M} UTC, "
            f"{p.waits} parked ({p.error}): {p.fix}"
        )
    return out


def _check_slack(client: WebClient, config: LoopbotConfig, api_url: str) -> Preflight:
    out = Preflight()
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        error = _error(exc)
        if error in REFUSED:
            out.errors.append(
                f"environment: SLACK_BOT_TOKEN: Slack refused the token ({error}); copy the Bot User "
                "OAuth Token (xoxb-…) from the Slack app's Install App page"
            )
        else:
            out.warnings.append(
                f"warning: Slack could not check the token ({error}); the channels were not checked"
            )
        return out
    except (
        OSError
    ) as exc:  # refused, DNS, timeout: the config may still be right, so only a warning
        out.warnings.append(
            f"warning: cannot reach Slack at {_safe_url(api_url)} ({_reason(exc)}); "
            "the token and channels were not checked"
        )
        return out
    seen: dict[
        str, dict[str, Any] | str
    ] = {}  # channel id -> channel info or error code: one call per id
    checked = 0
    for key, channel in channel_keys(config):
        if channel not in seen:
            try:
                seen[channel] = client.conversations_info(channel=channel)["channel"]
                checked += 1
            except SlackApiError as exc:
                if _error(exc) == "missing_scope":
                    # Every further call would fail the same way: say it once.
                    needed = exc.response.get("needed") or "channels:read, groups:read"
                    out.warnings.append(
                        f"warning: the Slack app lacks the scope {needed}, so the channels were not "
                        "checked: add it (manifest.yaml has it) and reinstall the app"
                    )
                    break
                seen[channel] = _error(exc)
                checked += 1
            except OSError as exc:
                out.warnings.append(
                    f"warning: lost Slack at {_safe_url(api_url)} ({_reason(exc)}) while checking "
                    "channels; the rest were not checked"
                )
                break
        if (problem := _channel_problem(seen[channel])) is not None:
            out.warnings.append(f"warning: {key}: {channel}: {problem}")
    out.summary = (
        f"Slack: token accepted (bot @{who.get('user')} in {who.get('team')}); "
        f"{checked} channel(s) checked, {len(out.warnings)} warning(s)"
    )
    return out


def _channel_problem(info: dict[str, Any] | str) -> str | None:
    if isinstance(info, str):
        if info == "channel_not_found":
            return "no such channel (or the bot cannot see it): check the id"
        return f"Slack answered {info} for this channel"
    name = f"#{info['name']} " if info.get("name") else ""
    if info.get("is_archived"):
        return f"{name}is archived: unarchive it or configure another channel"
    if info.get("is_member") is False:
        return f"{name}does not have the bot in it: {INVITE} in that channel"
    return None


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")


def _reason(exc: OSError) -> str:
    # URLError wraps the socket error; its text is the errno message, never a header or token.
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(reason).__name__


def _safe_url(url: str) -> str:
    """The URL without user:password@ (a proxy URL may carry credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
