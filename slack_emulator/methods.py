"""The Web API method table: auth, users, conversations, views, files and apps.connections.open."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_emulator import chat
from slack_emulator.blockkit import view_errors
from slack_emulator.state import SlackError

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator

Handler = Callable[["SlackEmulator", dict], dict]


def auth_test(emu: SlackEmulator, args: dict) -> dict:
    ident = emu.identity
    return {
        "ok": True,
        "url": f"https://{ident.team_domain}.slack.com/",
        "team": ident.team_domain.title(),
        "user": ident.bot_name,
        "team_id": ident.team_id,
        "user_id": ident.bot_user_id,
        "bot_id": ident.bot_id,
        "is_enterprise_install": False,
    }


def users_info(emu: SlackEmulator, args: dict) -> dict:
    return {"ok": True, "user": emu.workspace.user(args.get("user"))}


def conversations_info(emu: SlackEmulator, args: dict) -> dict:
    channel = args.get("channel") or ""
    ws = emu.workspace
    # conversations.info wants an id: a #name is channel_not_found, as in Slack.
    if channel not in ws.channels and not (
        channel.startswith("D") and "U" + channel[1:] in ws.users
    ):
        raise SlackError("channel_not_found")
    is_im = channel not in ws.channels
    info = {
        "id": channel,
        "name": ws.channel_name(channel),
        "is_channel": not is_im,
        "is_im": is_im,
        "is_private": False,
        "is_archived": False,
        "is_member": channel not in ws.not_in_channel,
        "created": 1_600_000_000,
        "context_team_id": emu.identity.team_id,
    }
    if is_im:
        info["user"] = "U" + channel[1:]
    return {"ok": True, "channel": info}


def _window(messages: list[dict], args: dict) -> list[dict]:
    """Slack's oldest/latest bounds (exclusive unless inclusive=true), limit, and metadata only on request."""
    inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    kept = [
        m
        for m in messages
        if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
        and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)
    ]
    if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
        kept = [{k: v for k, v in m.items() if k != "metadata"} for m in kept]
    return kept[: int(args.get("limit") or 100)]


def conversations_history(emu: SlackEmulator, args: dict) -> dict:
    ws = emu.workspace
    channel = ws.channel_id(args.get("channel"))
    ws.check_member(channel)
    messages = _window(list(reversed(ws.messages(channel))), args)  # newest first, as Slack answers
    return {
        "ok": True,
        "messages": messages,
        "has_more": False,
        "pin_count": 0,
        "response_metadata": {"next_cursor": ""},
    }


def conversations_replies(emu: SlackEmulator, args: dict) -> dict:
    ws = emu.workspace
    channel = ws.channel_id(args.get("channel"))
    ws.check_member(channel)
    parent = ws.message(channel, args.get("ts") or "")
    if parent is None:
        raise SlackError("thread_not_found")
    root = parent.get("thread_ts", parent["ts"])
    thread = [
        ws.message(channel, root),
        *ws.replies(channel, root),
    ]  # the parent first, then oldest first
    return {
        "ok": True,
        "messages": _window([m for m in thread if m], args),
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }


def _checked_view(args: dict) -> dict:
    view = args.get("view")
    if not isinstance(view, dict):
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: view"]},
        )
    errors = view_errors(view)
    if errors:
        raise SlackError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )
    return view


def views_open(emu: SlackEmulator, args: dict) -> dict:
    view = _checked_view(args)
    return {"ok": True, "view": emu.views.open(args.get("trigger_id"), view)}


def views_push(emu: SlackEmulator, args: dict) -> dict:
    view = _checked_view(args)
    return {"ok": True, "view": emu.views.push(args.get("trigger_id"), view)}


def views_update(emu: SlackEmulator, args: dict) -> dict:
    view = _checked_view(args)
    if not args.get("view_id") and not args.get("external_id"):
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] view_id or external_id required"]},
        )
    updated = emu.views.update(
        view,
        view_id=args.get("view_id"),
        external_id=args.get("external_id"),
        hash=args.get("hash"),
    )
    return {"ok": True, "view": updated}


def views_publish(emu: SlackEmulator, args: dict) -> dict:
    user = emu.workspace.user(args.get("user_id"))["id"]
    view = _checked_view(args)
    return {"ok": True, "view": emu.views.publish(user, view, hash=args.get("hash"))}


def files_get_upload_url(emu: SlackEmulator, args: dict) -> dict:
    filename, length = args.get("filename"), args.get("length")
    if not filename:
        raise SlackError("invalid_arguments")
    try:
        size = int(length)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SlackError("invalid_arguments") from None
    created = emu.workspace.new_file(filename, size, args.get("alt_txt"))
    return {
        "ok": True,
        "upload_url": f"{emu.base_url}upload/{created['id']}",
        "file_id": created["id"],
    }


def _public_file(emu: SlackEmulator, f: dict, channel: str | None) -> dict:
    mimetype = mimetypes.guess_type(f["name"])[0] or "application/octet-stream"
    return {
        "id": f["id"],
        "created": f["created"],
        "timestamp": f["created"],
        "name": f["name"],
        "title": f["title"],
        "mimetype": mimetype,
        "filetype": f["name"].rsplit(".", 1)[-1] if "." in f["name"] else "binary",
        "user": emu.identity.bot_user_id,
        "size": len(f["content"] or b""),
        "url_private": f"{emu.base_url}files/{f['id']}/{f['name']}",
        "permalink": f"https://{emu.identity.team_domain}.slack.com/files/{emu.identity.bot_user_id}/{f['id']}",
        "channels": [channel] if channel else [],
        "alt_txt": f.get("alt_txt"),
    }


def files_complete_upload(emu: SlackEmulator, args: dict) -> dict:
    ws = emu.workspace
    files = args.get("files")
    if not isinstance(files, list) or not files:
        raise SlackError("invalid_arguments")
    target = args.get("channel_id") or (args.get("channels") or "").split(",")[0] or None
    channel = ws.channel_id(target) if target else None
    if channel:
        ws.check_member(channel)
    with ws.lock:
        stored = []
        for item in files:
            found = ws.raw_file(item.get("id", "")) if isinstance(item, dict) else None
            # Slack will not complete a file whose bytes never reached the upload URL.
            if found is None or found["content"] is None or found["completed"]:
                raise SlackError("file_not_found")
            stored.append((found, item))
        for found, item in stored:
            found.update(completed=True, title=item.get("title") or found["name"], channel=channel)
        shared = [_public_file(emu, found, channel) for found, _ in stored]
        if channel:
            message = {
                "text": args.get("initial_comment") or "",
                "files": shared,
                "upload": True,
                "user": emu.identity.bot_user_id,
                "bot_id": emu.identity.bot_id,
                "display_as_bot": False,
            }
            posted = ws.post(channel, message, args.get("thread_ts") or None)
            for found, _ in stored:
                found["message_ts"] = posted["ts"]
    return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}


def apps_connections_open(emu: SlackEmulator, args: dict) -> dict:
    return {"ok": True, "url": emu.socket.new_url()}


# method -> (handler, token kind it needs: "bot" or "app")
METHODS: dict[str, tuple[Handler, str]] = {
    "auth.test": (auth_test, "bot"),
    "chat.postMessage": (chat.post_message, "bot"),
    "chat.update": (chat.update, "bot"),
    "chat.delete": (chat.delete, "bot"),
    "chat.postEphemeral": (chat.post_ephemeral, "bot"),
    "chat.getPermalink": (chat.get_permalink, "bot"),
    "users.info": (users_info, "bot"),
    "conversations.info": (conversations_info, "bot"),
    "conversations.history": (conversations_history, "bot"),
    "conversations.replies": (conversations_replies, "bot"),
    "views.open": (views_open, "bot"),
    "views.push": (views_push, "bot"),
    "views.update": (views_update, "bot"),
    "views.publish": (views_publish, "bot"),
    "files.getUploadURLExternal": (files_get_upload_url, "bot"),
    "files.completeUploadExternal": (files_complete_upload, "bot"),
    "apps.connections.open": (apps_connections_open, "app"),
}
