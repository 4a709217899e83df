"""The payloads Slack sends an app, in Slack's shapes: slash commands, block_actions, view_submission, events."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from slack_emulator.state import Identity, Workspace

_MISSING = object()


def action_ts() -> str:
    now = time.time()
    return f"{now:.6f}"


def user_obj(ws: Workspace, user_id: str) -> dict:
    user = ws.user(user_id)
    return {
        "id": user_id,
        "username": user["name"],
        "name": user["name"],
        "team_id": ws.identity.team_id,
    }


def team_obj(ident: Identity) -> dict:
    return {"id": ident.team_id, "domain": ident.team_domain}


def slash_command(
    ws: Workspace,
    *,
    text: str,
    user: str,
    channel: str,
    command: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command, all strings (Socket Mode sends the same dict as JSON)."""
    ident = ws.identity
    return {
        "token": ident.verification_token,
        "team_id": ident.team_id,
        "team_domain": ident.team_domain,
        "channel_id": channel,
        "channel_name": ws.channel_name(channel),
        "user_id": user,
        "user_name": ws.user(user)["name"],
        "command": command,
        "text": text,
        "api_app_id": ident.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def find_button(blocks: list[dict] | None, action_id: str) -> tuple[dict, dict]:
    """The block and button with this action_id; LookupError (naming what is there) when there is none."""
    seen = []
    for block in blocks or []:
        for element in [*(block.get("elements") or []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("type") == "button":
                if element.get("action_id") == action_id:
                    return block, element
                seen.append(element.get("action_id"))
    raise LookupError(f"no button with action_id {action_id!r} (buttons: {seen})")


def action_entry(block: dict, button: dict, value: str | None = None) -> dict:
    entry = {
        "action_id": button["action_id"],
        "block_id": block["block_id"],
        "text": copy.deepcopy(button["text"]),
        "type": "button",
        "action_ts": action_ts(),
    }
    if value is not None or "value" in button:
        entry["value"] = value if value is not None else button["value"]
    if "style" in button:
        entry["style"] = button["style"]
    return entry


def _base(ws: Workspace, kind: str, user: str, trigger_id: str) -> dict:
    ident = ws.identity
    return {
        "type": kind,
        "user": user_obj(ws, user),
        "api_app_id": ident.app_id,
        "token": ident.verification_token,
        "trigger_id": trigger_id,
        "team": team_obj(ident),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions_message(
    ws: Workspace,
    *,
    channel: str,
    message: dict,
    ephemeral: bool,
    user: str,
    action: dict,
    trigger_id: str,
    response_url: str,
) -> dict:
    payload = _base(ws, "block_actions", user, trigger_id)
    payload["container"] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": ephemeral,
    }
    payload["channel"] = {"id": channel, "name": ws.channel_name(channel)}
    if not ephemeral:
        # Slack leaves the message out for ephemeral sources: the app never stored them.
        payload["message"] = {
            k: v for k, v in message.items() if k not in ("channel", "user_visible_to")
        }
    payload.update(state={"values": {}}, response_url=response_url, actions=[action])
    return payload


def block_actions_view(
    ws: Workspace, *, view: dict, user: str, action: dict, trigger_id: str
) -> dict:
    payload = _base(ws, "block_actions", user, trigger_id)
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload.update(view=view, actions=[action])
    return payload


def view_submission(ws: Workspace, *, view: dict, user: str, trigger_id: str) -> dict:
    payload = _base(ws, "view_submission", user, trigger_id)
    payload.update(view=view, response_urls=[])
    return payload


def event_callback(ws: Workspace, event: dict) -> dict:
    ident = ws.identity
    return {
        "token": ident.verification_token,
        "team_id": ident.team_id,
        "context_team_id": ident.team_id,
        "context_enterprise_id": None,
        "api_app_id": ident.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ident.team_id,
                "user_id": ident.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + secrets.token_hex(16),
    }


# -- view_submission state.values


def _options(element: dict) -> list[dict]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += group.get("options") or []
    return found


def _option(element: dict, value: Any, path: str) -> dict:
    if isinstance(value, dict):
        return value
    if element["type"].endswith("external_select"):
        return {
            "text": {"type": "plain_text", "text": str(value), "emoji": True},
            "value": str(value),
        }
    for option in _options(element):
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise ValueError(
        f"{path}: {value!r} is not one of the options {[o.get('value') for o in _options(element)]}"
    )


def _entry(element: dict, given: Any, path: str) -> tuple[dict, bool]:
    """Slack's state entry for an input element, and whether the user filled it in."""
    kind = element["type"]
    entry: dict[str, Any] = {"type": kind}
    singles = {
        "users_select": ("selected_user", "initial_user"),
        "conversations_select": ("selected_conversation", "initial_conversation"),
        "channels_select": ("selected_channel", "initial_channel"),
        "datepicker": ("selected_date", "initial_date"),
        "timepicker": ("selected_time", "initial_time"),
        "datetimepicker": ("selected_date_time", "initial_date_time"),
    }
    if kind in ("static_select", "external_select", "radio_buttons"):
        chosen = element.get("initial_option") if given is _MISSING else given
        entry["selected_option"] = _option(element, chosen, path) if chosen is not None else None
        return entry, chosen is not None
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        chosen = element.get("initial_options") or [] if given is _MISSING else given
        entry["selected_options"] = [_option(element, v, path) for v in chosen]
        return entry, bool(chosen)
    if kind.startswith("multi_"):
        key = {
            "multi_users_select": "selected_users",
            "multi_conversations_select": "selected_conversations",
            "multi_channels_select": "selected_channels",
        }[kind]
        chosen = (
            element.get(key.replace("selected_", "initial_"), []) if given is _MISSING else given
        )
        entry[key] = list(chosen)
        return entry, bool(chosen)
    if kind in singles:
        key, initial = singles[kind]
        entry[key] = element.get(initial) if given is _MISSING else given
        return entry, entry[key] is not None
    value = element.get("initial_value") if given is _MISSING else given
    if value is not None and kind == "plain_text_input":
        # The Slack client itself enforces these: an app never sees an out-of-range value.
        if len(value) > element.get("max_length", 3000) or (
            value and len(value) < element.get("min_length", 0)
        ):
            raise ValueError(f"{path}: length {len(value)} outside the element's min/max length")
    entry["value"] = str(value) if value not in (None, "") else None
    return entry, entry["value"] is not None


def state_values(view: dict, values: dict[str, dict[str, Any]]) -> dict:
    """view.state.values for a submission; ValueError where the Slack client would refuse to submit."""
    state: dict[str, dict] = {}
    inputs = {b["block_id"]: b for b in view.get("blocks", []) if b.get("type") == "input"}
    for block_id, given in values.items():
        element = inputs.get(block_id, {}).get("element", {})
        unknown = set(given) - {element.get("action_id")}
        if block_id not in inputs or unknown:
            raise ValueError(
                f"no input {block_id}.{sorted(unknown) or ''} in view {view['id']} (inputs: {sorted(inputs)})"
            )
    for block_id, block in inputs.items():
        element = block["element"]
        given = values.get(block_id, {}).get(element["action_id"], _MISSING)
        entry, filled = _entry(element, given, f"{block_id}.{element['action_id']}")
        if not filled and not block.get("optional"):
            raise ValueError(
                f"{block_id}: a required input is empty; Slack would not let the user submit"
            )
        state[block_id] = {element["action_id"]: entry}
    return state
