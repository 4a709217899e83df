"""Posting an outbox post to Slack once: each carries its key as metadata, and a retry looks for it first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.delivery.outbox import Claimed

log = logging.getLogger("loopbot.outbox")


def post(client: WebClient, claim: Claimed | None = None, **message: Any) -> SlackResponse:
    """chat.postMessage, marked with the claim's key (when given) for `posted_before` to find."""
    if claim is not None:
        message["metadata"] = marker(claim)
    # Customer text never unfurls into a preview of whatever link it names.
    return client.chat_postMessage(unfurl_links=False, unfurl_media=False, **message)


def marker(claim: Claimed) -> dict[str, Any]:
    """Message metadata naming the outbox post."""
    return {"event_type": "loopbot_post", "event_payload": {"key": claim.key}}


def posted_before(
    client: WebClient, claim: Claimed, channel: str, *, thread: str | None = None
) -> str | None:
    """The ts of this post if an earlier attempt got it into Slack after all, else None.

    An attempt that timed out, hit a 5xx, or died with its process may have posted before it failed, and
    Slack's chat.postMessage takes no idempotency key: the post carries its outbox key as message metadata,
    and a retried post looks for it in the channel (or thread) first.
    """
    if claim.attempts <= 1:
        return None
    oldest = f"{claim.created_at.timestamp() - 1:.6f}"
    if thread is None:
        resp = client.conversations_history(
            channel=channel, oldest=oldest, limit=200, include_all_metadata=True
        )
    else:
        resp = client.conversations_replies(
            channel=channel, ts=thread, oldest=oldest, limit=200, include_all_metadata=True
        )
    for message in resp.get("messages") or []:
        if ((message.get("metadata") or {}).get("event_payload") or {}).get("key") == claim.key:
            log.info(
                "Slack post %s was delivered by an earlier attempt (ts %s); not posting it again",
                claim.key,
                message["ts"],
            )
            return str(message["ts"])
    return None


def post_once(
    client: WebClient,
    claim: Claimed,
    channel: str,
    render: Callable[[], dict[str, Any]],
    *,
    thread: str | None = None,
) -> str:
    """Post the message `render` makes unless an earlier attempt posted it already; its ts either way."""
    found = posted_before(client, claim, channel, thread=thread)
    if found is not None:
        return found
    where = {"channel": channel} if thread is None else {"channel": channel, "thread_ts": thread}
    return str(post(client, claim, **where, **render())["ts"])


def update_or_repost(
    client: WebClient,
    claim: Claimed,
    channel: str,
    ts: str,
    body: dict[str, Any],
    *,
    note: str,
    moved: Callable[[str, str], None],
) -> str:
    """chat.update the message at `ts`; when someone deleted it in Slack, post it again (once, however often
    this is retried), record the new ts with `moved(old, new)`, say so in its thread, and return the new ts."""
    try:
        client.chat_update(channel=channel, ts=ts, **body)
        return ts
    except SlackApiError as exc:
        if exc.response.get("error") != "message_not_found":
            raise
    # Keys of their own, so a retry of this post finds the copy and the note rather than making more.
    again = replace(claim, key=f"{claim.key}:again")
    new_ts = post_once(client, again, channel, lambda: body)
    moved(ts, new_ts)
    log.warning(
        "the Slack message %s in %s was deleted; posted it again as %s (post %s)",
        ts,
        channel,
        new_ts,
        claim.key,
    )
    post_once(
        client,
        replace(claim, key=f"{claim.key}:again:note"),
        channel,
        lambda: {"text": note},
        thread=new_ts,
    )
    return new_ts
