"""chat.* methods and response_url posts: messages, threads, in-place updates, ephemerals, permalinks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_emulator.blockkit import MAX_MESSAGE_TEXT, blocks_too_long, message_errors
from slack_emulator.state import ResponseUrl, SlackError, with_ids

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator


def truthy(value: Any) -> bool:
    # Form bodies carry booleans as strings.
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def check_message(blocks: Any, text: Any, attachments: Any = None) -> None:
    """Refuse a message as Slack does: no_text, msg_too_long, invalid_blocks with the reasons."""
    if not blocks and not text and not attachments:
        raise SlackError("no_text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is None:
        return
    if blocks_too_long(blocks):
        raise SlackError("msg_blocks_too_long")
    errors = [e for e in message_errors(blocks, text) if e.startswith("blocks")]
    if errors:
        raise SlackError(
            "invalid_blocks",
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
        )


def check_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")


def _content(emu: SlackEmulator, args: dict) -> dict:
    ident = emu.identity
    message: dict[str, Any] = {
        "text": args.get("text") or "",
        "user": ident.bot_user_id,
        "bot_id": ident.bot_id,
        "app_id": ident.app_id,
        "team": ident.team_id,
    }
    if args.get("blocks"):
        message["blocks"] = with_ids(args["blocks"])
    for key in ("attachments", "metadata", "username", "icon_emoji", "icon_url"):
        if args.get(key):
            message[key] = args[key]
    for key in ("unfurl_links", "unfurl_media", "mrkdwn", "reply_broadcast"):
        if key in args:
            message[key] = truthy(args[key])
    return message


def post_message(emu: SlackEmulator, args: dict) -> dict:
    channel = emu.workspace.channel_id(args.get("channel"))
    emu.workspace.check_member(channel)
    check_message(args.get("blocks"), args.get("text"), args.get("attachments"))
    check_metadata(args.get("metadata"))
    stored = emu.workspace.post(channel, _content(emu, args), args.get("thread_ts") or None)
    return {"ok": True, "channel": channel, "ts": stored["ts"], "message": stored}


def update(emu: SlackEmulator, args: dict) -> dict:
    channel = emu.workspace.channel_id(args.get("channel"))
    current = emu.workspace.find(channel, args.get("ts"))
    if current.get("bot_id") != emu.identity.bot_id:
        raise SlackError("cant_update_message")
    if not any(k in args for k in ("text", "blocks", "attachments")):
        raise SlackError("no_text")
    # Fields left out keep their value; an empty blocks array removes the blocks (Slack's chat.update rules).
    text = args["text"] if "text" in args else current.get("text")
    blocks = args["blocks"] if "blocks" in args else current.get("blocks")
    check_message(blocks or None, text, args.get("attachments") or current.get("attachments"))
    check_metadata(args.get("metadata"))
    changes: dict[str, Any] = {"text": text or ""}
    if "blocks" in args:
        changes["blocks"] = with_ids(args["blocks"] or [])
    for key in ("attachments", "metadata"):
        if key in args:
            changes[key] = args[key]
    stored = emu.workspace.update(channel, current["ts"], changes)
    return {
        "ok": True,
        "channel": channel,
        "ts": stored["ts"],
        "text": stored["text"],
        "message": stored,
    }


def delete(emu: SlackEmulator, args: dict) -> dict:
    channel = emu.workspace.channel_id(args.get("channel"))
    current = emu.workspace.find(channel, args.get("ts"))
    if current.get("bot_id") != emu.identity.bot_id:
        raise SlackError("cant_delete_message")
    emu.workspace.delete(channel, current["ts"])
    return {"ok": True, "channel": channel, "ts": current["ts"]}


def post_ephemeral(emu: SlackEmulator, args: dict) -> dict:
    channel = emu.workspace.channel_id(args.get("channel"))
    user = args.get("user")
    if not user or user not in emu.workspace.users:
        raise SlackError("user_not_found")
    emu.workspace.check_member(channel)
    check_message(args.get("blocks"), args.get("text"), args.get("attachments"))
    stored = emu.workspace.post_ephemeral(
        channel, user, _content(emu, args), args.get("thread_ts") or None
    )
    return {"ok": True, "message_ts": stored["ts"]}


def get_permalink(emu: SlackEmulator, args: dict) -> dict:
    channel = emu.workspace.channel_id(args.get("channel"))
    found = emu.workspace.find(channel, args.get("message_ts"))
    link = f"https://{emu.identity.team_domain}.slack.com/archives/{channel}/p{found['ts'].replace('.', '')}"
    root = found.get("thread_ts")
    if root and root != found["ts"]:
        link += f"?thread_ts={root}&cid={channel}"
    return {"ok": True, "channel": channel, "permalink": link}


def respond(emu: SlackEmulator, url: ResponseUrl, body: dict) -> None:
    """What Slack does with a POST to a response_url: an ephemeral (default), an in-channel message,
    or replacing/deleting the message the interaction came from."""
    ws = emu.workspace
    original = url.message_ts
    is_ephemeral = original is not None and ws.find_ephemeral(url.channel, original) is not None
    if truthy(body.get("delete_original")):
        if original is None:
            raise SlackError("no_original_message")
        if is_ephemeral:
            ws.delete_ephemeral(original)
        else:
            ws.delete(url.channel, original)
        return
    blocks, text = body.get("blocks"), body.get("text")
    check_message(blocks, text, body.get("attachments"))
    content = _content(
        emu, {k: v for k, v in body.items() if k in ("text", "blocks", "attachments", "metadata")}
    )
    if truthy(body.get("replace_original")) and original is not None:
        # A replacement is a whole new message body: what the response leaves out is gone.
        content.setdefault("blocks", [])
        if is_ephemeral:
            ws.update_ephemeral(original, content)
        else:
            ws.update(url.channel, original, content)
    elif body.get("response_type") == "in_channel":
        ws.post(url.channel, content, body.get("thread_ts") or None)
    else:
        ws.post_ephemeral(url.channel, url.user, content, body.get("thread_ts") or None)
