"""The emulated workspace's data: identity, channels, users, messages, threads, ephemerals, files, response URLs."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any


class SlackError(Exception):
    """A Web API refusal: becomes {"ok": false, "error": <error>, **extra}."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class Identity:
    team_id: str = "T0LOOPBOT"
    team_domain: str = "loopbot"
    app_id: str = "A0LOOPBOT"
    bot_id: str = "B0LOOPBOT"
    bot_user_id: str = "U0LOOPBOT"
    bot_name: str = "loopbot"
    # The legacy verification token Slack still puts into every payload.
    verification_token: str = "emulator-verification-token"


@dataclass
class ResponseUrl:
    id: str
    channel: str
    user: str
    created: float
    # The message an interactive response_url may replace or delete (None for slash commands).
    message_ts: str | None = None
    uses: int = 0


# Slack allows five responses per response_url within thirty minutes.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60


def with_ids(blocks: list[dict] | None) -> list[dict]:
    """Slack fills in a random block_id (and action_id) wherever the app left one out."""
    out = []
    for block in blocks or []:
        block = copy.deepcopy(block)
        block.setdefault("block_id", secrets.token_urlsafe(4))
        for element in [*block.get("elements", []), block.get("accessory"), block.get("element")]:
            if (
                isinstance(element, dict)
                and element.get("type") not in (None, "image", "plain_text", "mrkdwn")
                and block.get("type") != "rich_text"
            ):
                element.setdefault("action_id", secrets.token_urlsafe(4))
        out.append(block)
    return out


def _user_record(user_id: str, spec: str | dict, team_id: str) -> dict:
    spec = {"real_name": spec} if isinstance(spec, str) else dict(spec)
    real_name = spec.get("real_name") or spec.get("name") or user_id
    name = spec.get("name") or real_name.lower().replace(" ", ".")
    tz = spec.get("tz", "UTC")
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "real_name": real_name,
        "deleted": False,
        "tz": tz,
        "tz_label": tz,
        "tz_offset": spec.get("tz_offset", 0),
        "is_bot": bool(spec.get("is_bot", False)),
        "is_admin": False,
        "updated": int(time.time()),
        "profile": {
            "real_name": real_name,
            "display_name": spec.get("display_name", name),
            "team": team_id,
        },
    }


@dataclass
class Workspace:
    identity: Identity
    channels: dict[str, str]
    users: dict[str, dict]
    not_in_channel: frozenset[str] = frozenset()
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self._top: dict[str, list[dict]] = {}
        self._by_ts: dict[tuple[str, str], dict] = {}
        self._replies: dict[tuple[str, str], list[dict]] = {}
        self._ephemerals: list[dict] = []
        self._files: dict[str, dict] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._last_us = 0

    @classmethod
    def build(
        cls,
        identity: Identity,
        channels: dict[str, str] | None,
        users: dict[str, str | dict] | None,
        not_in_channel: set[str] | frozenset[str],
    ) -> Workspace:
        people = {
            uid: _user_record(uid, spec, identity.team_id) for uid, spec in (users or {}).items()
        }
        people[identity.bot_user_id] = _user_record(
            identity.bot_user_id, {"name": identity.bot_name, "is_bot": True}, identity.team_id
        )
        return cls(identity, dict(channels or {}), people, frozenset(not_in_channel))

    def next_ts(self) -> str:
        """Slack's ts: seconds.microseconds, unique and increasing within the workspace."""
        with self.lock:
            self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
            return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    # -- channels and users

    def channel_id(self, ref: str | None) -> str:
        """A channel id from an id, a name or #name; a user id means the bot's DM with that user."""
        if not ref:
            raise SlackError("channel_not_found")
        if ref in self.channels:
            return ref
        name = ref.lstrip("#")
        for cid, cname in self.channels.items():
            if cname == name:
                return cid
        if ref in self.users:
            return self.dm_channel(ref)
        if ref.startswith("D") and ("U" + ref[1:]) in self.users:
            return ref
        raise SlackError("channel_not_found")

    def dm_channel(self, user: str) -> str:
        return "D" + user[1:]

    def channel_name(self, channel: str) -> str:
        return self.channels.get(channel, "directmessage")

    def user(self, user_id: str | None) -> dict:
        if not user_id or user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def check_member(self, channel: str) -> None:
        if channel in self.not_in_channel:
            raise SlackError("not_in_channel")

    # -- messages

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> dict:
        with self.lock:
            ts = self.next_ts()
            stored = {"type": "message", **message, "ts": ts}
            if thread_ts:
                parent = self._by_ts.get((channel, thread_ts))
                if parent is None:
                    raise SlackError("thread_not_found")
                # A reply to a reply joins the parent's thread, as in Slack.
                root = parent.get("thread_ts", parent["ts"])
                parent = self._by_ts[(channel, root)]
                stored["thread_ts"] = root
                stored["parent_user_id"] = parent.get("user")
                self._replies.setdefault((channel, root), []).append(stored)
                parent.update(
                    thread_ts=root, reply_count=parent.get("reply_count", 0) + 1, latest_reply=ts
                )
                parent["reply_users"] = sorted(
                    {*parent.get("reply_users", []), stored.get("user", "")} - {""}
                )
                parent["reply_users_count"] = len(parent["reply_users"])
                if message.get("reply_broadcast"):
                    self._top.setdefault(channel, []).append(stored)
            else:
                self._top.setdefault(channel, []).append(stored)
            self._by_ts[(channel, ts)] = stored
            return copy.deepcopy(stored)

    def find(self, channel: str, ts: str | None) -> dict:
        with self.lock:
            found = self._by_ts.get((channel, ts or ""))
            if found is None:
                raise SlackError("message_not_found")
            return found

    def update(self, channel: str, ts: str, changes: dict) -> dict:
        with self.lock:
            stored = self.find(channel, ts)
            stored.update(changes)
            stored["edited"] = {"user": self.identity.bot_user_id, "ts": self.next_ts()}
            return copy.deepcopy(stored)

    def delete(self, channel: str, ts: str) -> None:
        with self.lock:
            stored = self.find(channel, ts)
            del self._by_ts[(channel, ts)]
            self._top[channel] = [m for m in self._top.get(channel, []) if m["ts"] != ts]
            root = stored.get("thread_ts")
            if root and root != ts:
                self._replies[(channel, root)] = [
                    m for m in self._replies[(channel, root)] if m["ts"] != ts
                ]
                parent = self._by_ts.get((channel, root))
                if parent is not None:
                    parent["reply_count"] = len(self._replies[(channel, root)])

    def post_ephemeral(
        self, channel: str, user: str, message: dict, thread_ts: str | None = None
    ) -> dict:
        with self.lock:
            stored = {
                "type": "message",
                **message,
                "ts": self.next_ts(),
                "channel": channel,
                "user_visible_to": user,
            }
            if thread_ts:
                stored["thread_ts"] = thread_ts
            self._ephemerals.append(stored)
            return copy.deepcopy(stored)

    def update_ephemeral(self, ts: str, changes: dict) -> dict | None:
        with self.lock:
            for stored in self._ephemerals:
                if stored["ts"] == ts:
                    stored.update(changes)
                    return copy.deepcopy(stored)
            return None

    def delete_ephemeral(self, ts: str) -> None:
        with self.lock:
            self._ephemerals = [e for e in self._ephemerals if e["ts"] != ts]

    def find_ephemeral(self, channel: str, ts: str) -> dict | None:
        with self.lock:
            return next(
                (
                    copy.deepcopy(e)
                    for e in self._ephemerals
                    if e["channel"] == channel and e["ts"] == ts
                ),
                None,
            )

    # -- read helpers (copies, so tests cannot change what the emulator holds)

    def messages(self, channel: str) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self._top.get(self.channel_id(channel), []))

    def message(self, channel: str, ts: str) -> dict | None:
        with self.lock:
            found = self._by_ts.get((self.channel_id(channel), ts))
            return copy.deepcopy(found) if found else None

    def replies(self, channel: str, ts: str) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self._replies.get((self.channel_id(channel), ts), []))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict]:
        with self.lock:
            cid = self.channel_id(channel) if channel else None
            return copy.deepcopy(
                [
                    e
                    for e in self._ephemerals
                    if (cid is None or e["channel"] == cid)
                    and (user is None or e["user_visible_to"] == user)
                ]
            )

    # -- files

    def new_file(self, filename: str, length: int, alt_txt: str | None) -> dict:
        with self.lock:
            file_id = "F" + secrets.token_hex(5).upper()
            self._files[file_id] = {
                "id": file_id,
                "name": filename,
                "title": filename,
                "length": length,
                "alt_txt": alt_txt,
                "content": None,
                "completed": False,
                "created": int(time.time()),
            }
            return copy.deepcopy(self._files[file_id])

    def store_upload(self, file_id: str, content: bytes) -> bool:
        with self.lock:
            if file_id not in self._files or self._files[file_id]["completed"]:
                return False
            self._files[file_id]["content"] = content
            return True

    def raw_file(self, file_id: str) -> dict | None:
        with self.lock:
            return self._files.get(file_id)

    def file(self, file_id: str) -> dict | None:
        with self.lock:
            found = self._files.get(file_id)
            return copy.deepcopy(found) if found else None

    # -- response URLs

    def new_response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        with self.lock:
            rid = secrets.token_hex(12)
            self._response_urls[rid] = ResponseUrl(rid, channel, user, time.monotonic(), message_ts)
            return rid

    def use_response_url(self, rid: str) -> ResponseUrl:
        with self.lock:
            found = self._response_urls.get(rid)
            if found is None:
                raise SlackError("invalid_url")
            if time.monotonic() - found.created > RESPONSE_URL_TTL:
                raise SlackError("expired_url")
            if found.uses >= RESPONSE_URL_USES:
                raise SlackError("used_url")
            found.uses += 1
            return found

    def age_response_url(self, rid: str, seconds: float) -> None:
        """Pretend a response_url was issued `seconds` earlier (tests of the 30-minute limit)."""
        with self.lock:
            self._response_urls[rid].created -= seconds
