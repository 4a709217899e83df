"""The payloads Slack sends an app, in Slack's shapes: slash commands, block_actions, view_submission, events."""

from __future__ import annotations

import copy
import secrets
import time
from datetime import date
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


def _chosen(kind: str, value: Any, path: str, users: Any) -> Any:
    """A single-choice value as the Slack client would send it: None when empty, checked like the picker."""
    if value in (None, ""):
        return None
    if kind == "datepicker":
        # The date picker only ever yields real dates, written as Slack writes them.
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{path}: {value!r} is not a date written YYYY-MM-DD") from None
    if kind == "users_select" and users is not None and value not in users:
        # The user picker lists only the workspace's people.
        raise ValueError(f"{path}: {value!r} is not a user of this workspace")
    return value


def _entry(element: dict, given: Any, path: str, users: Any = None) -> tuple[dict, bool]:
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
        entry[key] = _chosen(
            kind, element.get(initial) if given is _MISSING else given, path, users
        )
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


def _filled(entry: dict) -> bool:
    return any(v not in (None, "", []) for k, v in entry.items() if k != "type")


def state_values(
    view: dict, values: dict[str, dict[str, Any]], *, users: Any = None, submit: bool = True
) -> dict:
    """view.state.values as the client has it; ValueError where the Slack client would refuse the values
    (or, when `submit`, to submit). Inputs left out keep what the view's state holds, else their initial value.
    """
    state: dict[str, dict] = {}
    inputs = _inputs(view)
    kept = (view.get("state") or {}).get("values") or {}
    for block_id, given in values.items():
        element = inputs.get(block_id, {}).get("element", {})
        unknown = set(given) - {element.get("action_id")}
        if block_id not in inputs or unknown:
            raise ValueError(
                f"no input {block_id}.{sorted(unknown) or ''} in view {view['id']} (inputs: {sorted(inputs)})"
            )
    for block_id, block in inputs.items():
        element = block["element"]
        action_id = element["action_id"]
        given = values.get(block_id, {}).get(action_id, _MISSING)
        before = kept.get(block_id, {}).get(action_id)
        if given is _MISSING and before and before.get("type") == element["type"]:
            # What the person typed before a views.update stays in the form, as in Slack.
            entry = copy.deepcopy(before)
        else:
            entry, _ = _entry(element, given, f"{block_id}.{action_id}", users)
        state[block_id] = {action_id: entry}
    empty = empty_required(view, state)
    if submit and empty:
        raise ValueError(
            f"{empty[0]}: a required input is empty; Slack would not let the user submit"
        )
    return state


def _inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view.get("blocks", []) if b.get("type") == "input"}


def empty_required(view: dict, state: dict) -> list[str]:
    """The block_ids of required inputs empty in `state`: the Slack client marks each and sends nothing."""
    return [
        block_id
        for block_id, block in _inputs(view).items()
        if not block.get("optional")
        and not any(_filled(e) for e in state.get(block_id, {}).values())
    ]


# -- block_actions from a select, date picker or other non-button element


def find_dispatcher(
    blocks: list[dict] | None, action_id: str, block_id: str | None = None
) -> tuple[dict, dict]:
    """The block and element (not a button) that sends block_actions when changed; LookupError otherwise."""
    seen = []
    for block in blocks or []:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        if block.get("type") == "input":
            candidates = [block.get("element")]
        else:
            candidates = [*(block.get("elements") or []), block.get("accessory")]
        for element in candidates:
            if not isinstance(element, dict) or element.get("type") in ("button", "image"):
                continue
            if element.get("action_id") != action_id:
                seen.append(element.get("action_id"))
                continue
            if block.get("type") == "input" and not block.get("dispatch_action"):
                raise LookupError(
                    f"input {block['block_id']} has no dispatch_action: Slack tells the app nothing"
                    " until the modal is submitted"
                )
            return block, element
    raise LookupError(f"no select or picker with action_id {action_id!r} (elements: {seen})")


def choice_entry(block: dict, element: dict, value: Any, users: Any = None) -> dict:
    """The actions[] entry Slack sends when a person picks `value` in a select or picker."""
    state, _ = _entry(element, value, f"{block['block_id']}.{element['action_id']}", users)
    entry = {"action_id": element["action_id"], "block_id": block["block_id"], **state}
    if "placeholder" in element:
        entry["placeholder"] = copy.deepcopy(element["placeholder"])
    entry["action_ts"] = action_ts()
    return entry
