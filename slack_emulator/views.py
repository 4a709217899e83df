"""Modals and Home tabs as Slack keeps them: trigger_ids, view ids and hashes, per-user modal stacks."""

from __future__ import annotations

import copy
import secrets
import threading
import time

from slack_emulator.state import Identity, SlackError, with_ids

# Slack's trigger_id is good for one views.open/push within three seconds of the interaction.
TRIGGER_TTL = 3.0
# Slack keeps at most three modals stacked.
MAX_STACK = 3


def _new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _kept_state(current: dict, updated: dict) -> dict:
    """What Slack keeps of the typed values across an update: the inputs whose block_id, action_id and
    element type are unchanged. A new block_id is how an app clears an input, so nothing else survives."""
    elements = {
        b["block_id"]: b["element"]
        for b in updated["blocks"]
        if b.get("type") == "input" and isinstance(b.get("element"), dict)
    }
    kept: dict[str, dict] = {}
    for block_id, entries in (current.get("state") or {}).get("values", {}).items():
        element = elements.get(block_id)
        for action_id, entry in entries.items():
            if element and (element.get("action_id"), element.get("type")) == (
                action_id,
                entry.get("type"),
            ):
                kept.setdefault(block_id, {})[action_id] = copy.deepcopy(entry)
    return kept


class ViewStore:
    def __init__(self, identity: Identity, trigger_ttl: float = TRIGGER_TTL):
        self.identity = identity
        self.trigger_ttl = trigger_ttl
        self.lock = threading.RLock()
        self._triggers: dict[str, dict] = {}
        self._views: dict[str, dict] = {}
        self._owner: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}

    # -- trigger ids

    def new_trigger(self, user: str) -> str:
        with self.lock:
            trigger = f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
            self._triggers[trigger] = {"user": user, "at": time.monotonic(), "used": False}
            return trigger

    def _take_trigger(self, trigger_id: str | None) -> str:
        found = self._triggers.get(trigger_id or "")
        if found is None:
            raise SlackError("invalid_trigger_id")
        if found["used"]:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - found["at"] > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        found["used"] = True
        return found["user"]

    # -- views

    def _build(
        self,
        view: dict,
        view_id: str | None = None,
        *,
        root: str | None = None,
        previous: str | None = None,
    ) -> dict:
        view_id = view_id or "V" + secrets.token_hex(5).upper()
        built = {
            "id": view_id,
            "team_id": self.identity.team_id,
            "type": view["type"],
            "blocks": with_ids(view.get("blocks")),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": _new_hash(),
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": previous,
            "root_view_id": root or view_id,
            "app_id": self.identity.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.identity.team_id,
            "bot_id": self.identity.bot_id,
        }
        self._views[view_id] = built
        return built

    def _check_external_id(self, view: dict, own_id: str | None = None) -> None:
        external = view.get("external_id")
        if external and any(
            v["external_id"] == external and v["id"] != own_id for v in self._views.values()
        ):
            raise SlackError("duplicate_external_id")

    def open(self, trigger_id: str | None, view: dict) -> dict:
        with self.lock:
            if view.get("type") != "modal":
                raise SlackError("invalid_arguments")
            self._check_external_id(view)
            user = self._take_trigger(trigger_id)
            for old in self._stacks.get(user, []):
                self._views.pop(old, None)
            built = self._build(view)
            self._owner[built["id"]] = user
            self._stacks[user] = [built["id"]]
            return copy.deepcopy(built)

    def push(self, trigger_id: str | None, view: dict, user: str | None = None) -> dict:
        with self.lock:
            user = user or self._take_trigger(trigger_id)
            stack = self._stacks.get(user) or []
            if not stack:
                raise SlackError("not_found")
            if len(stack) >= MAX_STACK:
                raise SlackError("push_limit_reached")
            self._check_external_id(view)
            built = self._build(view, root=stack[0], previous=stack[-1])
            self._owner[built["id"]] = user
            stack.append(built["id"])
            return copy.deepcopy(built)

    def _resolve(self, view_id: str | None, external_id: str | None) -> dict:
        if view_id:
            found = self._views.get(view_id)
        else:
            found = next(
                (
                    v
                    for v in self._views.values()
                    if external_id and v["external_id"] == external_id
                ),
                None,
            )
        if found is None:
            raise SlackError("not_found")
        return found

    def update(
        self,
        view: dict,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> dict:
        with self.lock:
            current = self._resolve(view_id, external_id)
            if hash and hash != current["hash"]:
                raise SlackError("hash_conflict")
            if view.get("type") != current["type"]:
                raise SlackError("invalid_arguments")
            self._check_external_id(view, current["id"])
            if "external_id" not in view:
                view = {**view, "external_id": current["external_id"]}
            built = self._build(
                view,
                current["id"],
                root=current["root_view_id"],
                previous=current["previous_view_id"],
            )
            built["state"] = {"values": _kept_state(current, built)}
            return copy.deepcopy(built)

    def publish(self, user: str, view: dict, hash: str | None = None) -> dict:
        with self.lock:
            if view.get("type") != "home":
                raise SlackError("invalid_arguments")
            current_id = self._homes.get(user)
            current = self._views.get(current_id) if current_id else None
            if hash and current is not None and hash != current["hash"]:
                raise SlackError("hash_conflict")
            built = self._build(view, current_id)
            self._owner[built["id"]] = user
            self._homes[user] = built["id"]
            return copy.deepcopy(built)

    def close(self, view_id: str, *, clear: bool = False) -> None:
        """The user submitted with a plain ack (closes that view) or the app answered `clear` (closes the stack)."""
        with self.lock:
            user = self._owner.get(view_id)
            stack = self._stacks.get(user or "", [])
            if view_id not in stack:
                return
            closing = stack if clear else stack[stack.index(view_id) :]
            for vid in closing:
                self._views.pop(vid, None)
            self._stacks[user or ""] = [v for v in stack if v not in closing]

    def set_state(self, view_id: str, values: dict) -> None:
        with self.lock:
            self._views[view_id]["state"] = {"values": copy.deepcopy(values)}

    # -- read helpers

    def get(self, view_id: str) -> dict | None:
        with self.lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    def owner(self, view_id: str) -> str | None:
        with self.lock:
            return self._owner.get(view_id)

    def open_views(self, user: str | None = None) -> list[dict]:
        with self.lock:
            return [
                copy.deepcopy(self._views[vid])
                for u, stack in self._stacks.items()
                if user in (None, u)
                for vid in stack
                if vid in self._views
            ]

    def home(self, user: str) -> dict | None:
        with self.lock:
            view_id = self._homes.get(user)
            return copy.deepcopy(self._views[view_id]) if view_id else None
