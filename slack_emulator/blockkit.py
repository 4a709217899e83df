"""Block Kit validation: what Slack rejects with invalid_blocks / invalid_arguments, as path-named error strings."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from slack_emulator.blockkit_spec import (
    ACCESSORY_ELEMENTS,
    ACTIONS_ELEMENTS,
    BLOCK_KEYS,
    ELEMENT_KEYS,
    INPUT_ELEMENTS,
    MAX_CONTEXT_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_BLOCKS_CHARS,
    MAX_MESSAGE_TEXT,
    MAX_OPTIONS,
    MAX_VIEW_BLOCKS,
    RICH_TEXT_ELEMENTS,
    VIEW_KEYS,
)


class _Errors(list):
    def add(self, path: str, message: str) -> None:
        self.append(f"{path}: {message}")


def _obj(errs: _Errors, value: Any, path: str, what: str = "an object") -> bool:
    if isinstance(value, dict):
        return True
    errs.add(path, f"must be {what}")
    return False


def _keys(errs: _Errors, d: dict, path: str, allowed: set[str], what: str) -> None:
    for key in d:
        if key not in allowed:
            errs.add(f"{path}.{key}", f"unknown field for {what}")


def _string(
    errs: _Errors, d: dict, key: str, path: str, max_len: int, *, required: bool = False
) -> None:
    if key not in d or d[key] is None:
        if required:
            errs.add(f"{path}.{key}", "is required")
        return
    value = d[key]
    if not isinstance(value, str):
        errs.add(f"{path}.{key}", "must be a string")
    elif required and not value:
        errs.add(f"{path}.{key}", "must not be empty")
    elif len(value) > max_len:
        errs.add(f"{path}.{key}", f"must be at most {max_len} characters")


def _text(
    errs: _Errors,
    d: dict,
    key: str,
    path: str,
    max_len: int,
    *,
    plain: bool = False,
    required: bool = True,
) -> None:
    if d.get(key) is None:
        if required:
            errs.add(f"{path}.{key}", "is required")
        return
    _text_object(errs, d[key], f"{path}.{key}", max_len, plain=plain)


def _text_object(
    errs: _Errors, value: Any, path: str, max_len: int, *, plain: bool = False
) -> None:
    """A text object; Slack refuses a bare string where an object is expected."""
    if not _obj(errs, value, path, "a text object"):
        return
    kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    kind = value.get("type")
    if kind not in kinds:
        errs.add(f"{path}.type", f"must be {' or '.join(kinds)}")
        return
    extra = "emoji" if kind == "plain_text" else "verbatim"
    _keys(errs, value, path, {"type", "text", extra}, f"a {kind} text object")
    _string(errs, value, "text", path, max_len, required=True)


def _flag(errs: _Errors, d: dict, key: str, path: str) -> None:
    # Slack refuses "true" or 1 where a boolean is expected.
    if key in d and not isinstance(d[key], bool):
        errs.add(f"{path}.{key}", "must be a boolean")


def _date(errs: _Errors, d: dict, key: str, path: str) -> None:
    value = d.get(key)
    if value is None:
        return
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        errs.add(f"{path}.{key}", "must be a real date written YYYY-MM-DD")


def _confirm(errs: _Errors, e: dict, path: str) -> None:
    if "confirm" not in e or not _obj(errs, e["confirm"], f"{path}.confirm"):
        return
    c, path = e["confirm"], f"{path}.confirm"
    _keys(errs, c, path, {"title", "text", "confirm", "deny", "style"}, "a confirmation dialog")
    _text(errs, c, "title", path, 100, plain=True)
    _text(errs, c, "text", path, 300)
    _text(errs, c, "confirm", path, 30, plain=True)
    _text(errs, c, "deny", path, 30, plain=True)


def _options(errs: _Errors, options: Any, path: str, max_count: int, *, plain: bool) -> list[dict]:
    if not isinstance(options, list) or not options:
        errs.add(path, "must be a non-empty array")
        return []
    if len(options) > max_count:
        errs.add(path, f"must have at most {max_count} items")
    valid = []
    for i, option in enumerate(options):
        p = f"{path}[{i}]"
        if not _obj(errs, option, p):
            continue
        _keys(errs, option, p, {"text", "value", "description", "url"}, "an option")
        _text(errs, option, "text", p, 75, plain=plain)
        _string(errs, option, "value", p, 150, required=True)
        _text(errs, option, "description", p, 75, plain=plain, required=False)
        valid.append(option)
    return valid


def _option_values(errs: _Errors, e: dict, kind: str, path: str) -> set[Any] | None:
    plain = kind not in ("radio_buttons", "checkboxes")
    if "option_groups" in e:
        if "options" in e:
            errs.add(f"{path}.option_groups", "cannot be combined with options")
        groups = e["option_groups"]
        if not isinstance(groups, list) or not groups or len(groups) > 100:
            errs.add(f"{path}.option_groups", "must be an array of 1 to 100 groups")
            return None
        values: set[Any] = set()
        for i, group in enumerate(groups):
            p = f"{path}.option_groups[{i}]"
            if _obj(errs, group, p):
                _keys(errs, group, p, {"label", "options"}, "an option group")
                _text(errs, group, "label", p, 75, plain=True)
                values |= {
                    o.get("value")
                    for o in _options(errs, group.get("options"), f"{p}.options", 100, plain=True)
                }
        return values
    if "options" in e or kind in MAX_OPTIONS or kind in ("static_select", "multi_static_select"):
        found = _options(
            errs, e.get("options"), f"{path}.options", MAX_OPTIONS.get(kind, 100), plain=plain
        )
        return {o.get("value") for o in found}
    return None


def _initial_options(errs: _Errors, e: dict, path: str, values: set[Any] | None) -> None:
    # Slack refuses an initial option that is not one of the element's options.
    chosen = [("initial_option", e["initial_option"])] if "initial_option" in e else []
    chosen += [(f"initial_options[{i}]", o) for i, o in enumerate(e.get("initial_options") or [])]
    for key, option in chosen:
        if values is not None and (
            not isinstance(option, dict) or option.get("value") not in values
        ):
            errs.add(f"{path}.{key}", "must be one of the element's options")


def _element(errs: _Errors, e: Any, path: str, allowed: set[str]) -> None:
    if not _obj(errs, e, path):
        return
    kind = e.get("type")
    if kind not in ELEMENT_KEYS:
        errs.add(f"{path}.type", f"unknown element type {kind!r}")
        return
    if kind not in allowed:
        errs.add(f"{path}.type", f"{kind} is not allowed here")
        return
    own = {"type"} if kind == "image" else {"type", "action_id"}
    _keys(errs, e, path, ELEMENT_KEYS[kind] | own, f"a {kind} element")
    _string(errs, e, "action_id", path, 255)
    _flag(errs, e, "focus_on_load", path)
    _text(errs, e, "placeholder", path, 150, plain=True, required=False)
    _confirm(errs, e, path)
    if kind == "button":
        _text(errs, e, "text", path, 75, plain=True)
        _string(errs, e, "value", path, 2000)
        _string(errs, e, "url", path, 3000)
        _string(errs, e, "accessibility_label", path, 75)
        if e.get("style") not in (None, "primary", "danger"):
            errs.add(f"{path}.style", "must be primary or danger")
    elif kind == "image":
        _string(errs, e, "image_url", path, 3000, required="slack_file" not in e)
        _string(errs, e, "alt_text", path, 2000, required=True)
    elif kind == "users_select":
        _string(errs, e, "initial_user", path, 255)
    elif kind == "datepicker":
        _date(errs, e, "initial_date", path)
    elif kind == "plain_text_input":
        _string(errs, e, "initial_value", path, 3000)
        _flag(errs, e, "multiline", path)
        if not 0 <= (e.get("max_length") or 0) <= 3000:
            errs.add(f"{path}.max_length", "must be at most 3000")
    values = _option_values(errs, e, kind, path)
    _initial_options(errs, e, path, values)


def _elements(errs: _Errors, b: dict, path: str, max_count: int, check: Any) -> list:
    elements = b.get("elements")
    if not isinstance(elements, list) or not elements:
        errs.add(f"{path}.elements", "must be a non-empty array")
        return []
    if len(elements) > max_count:
        errs.add(f"{path}.elements", f"must have at most {max_count} items")
    for i, element in enumerate(elements):
        check(element, f"{path}.elements[{i}]")
    return elements


def _context_element(errs: _Errors, e: Any, path: str) -> None:
    if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
        _text_object(errs, e, path, MAX_CONTEXT_TEXT)
    else:
        _element(errs, e, path, {"image"})


def _block(errs: _Errors, b: Any, path: str, *, modal: bool) -> None:
    if not _obj(errs, b, path):
        return
    kind = b.get("type")
    if kind not in BLOCK_KEYS:
        errs.add(f"{path}.type", f"unknown block type {kind!r}")
        return
    _keys(errs, b, path, BLOCK_KEYS[kind] | {"type", "block_id"}, f"a {kind} block")
    _string(errs, b, "block_id", path, 255)
    if kind == "section":
        if "text" not in b and "fields" not in b:
            errs.add(path, "a section needs text or fields")
        _text(errs, b, "text", path, 3000, required=False)
        if "fields" in b:
            fields = b["fields"]
            if not isinstance(fields, list) or not fields or len(fields) > 10:
                errs.add(f"{path}.fields", "must be an array of 1 to 10 text objects")
            else:
                for i, field in enumerate(fields):
                    _text_object(errs, field, f"{path}.fields[{i}]", 2000)
        if "accessory" in b:
            _element(errs, b["accessory"], f"{path}.accessory", ACCESSORY_ELEMENTS)
    elif kind == "header":
        _text(errs, b, "text", path, 150, plain=True)
    elif kind == "context":
        _elements(errs, b, path, 10, lambda e, p: _context_element(errs, e, p))
    elif kind == "actions":
        elements = _elements(errs, b, path, 25, lambda e, p: _element(errs, e, p, ACTIONS_ELEMENTS))
        ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
        for dup in sorted({a for a in ids if ids.count(a) > 1}):
            errs.add(f"{path}.elements", f"duplicate action_id {dup!r}")
    elif kind == "input":
        if not modal:
            errs.add(f"{path}.type", "input blocks are only allowed in modals")
        _text(errs, b, "label", path, 2000, plain=True)
        _text(errs, b, "hint", path, 2000, plain=True, required=False)
        _flag(errs, b, "optional", path)
        _flag(errs, b, "dispatch_action", path)
        if "element" not in b:
            errs.add(f"{path}.element", "is required")
        else:
            _element(errs, b["element"], f"{path}.element", INPUT_ELEMENTS)
    elif kind == "image":
        _string(errs, b, "image_url", path, 3000, required="slack_file" not in b)
        _string(errs, b, "alt_text", path, 2000, required=True)
        _text(errs, b, "title", path, 2000, plain=True, required=False)
    elif kind == "rich_text":
        _elements(errs, b, path, 100, lambda e, p: _rich_text_element(errs, e, p))
    elif kind == "markdown":
        _string(errs, b, "text", path, 12000, required=True)


def _rich_text_element(errs: _Errors, e: Any, path: str) -> None:
    if _obj(errs, e, path) and e.get("type") not in RICH_TEXT_ELEMENTS:
        errs.add(f"{path}.type", f"unknown rich text element type {e.get('type')!r}")


def _sdk_errors(errs: _Errors, b: dict, path: str) -> None:
    """slack_sdk's own model checks, for limits the tables above do not spell out."""
    try:
        parsed = Block.parse(b)
        if parsed is None:
            errs.add(f"{path}.type", "unknown block type")
        else:
            parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as exc:
        errs.add(path, str(exc))


def _blocks(errs: _Errors, blocks: Any, path: str, max_count: int, *, modal: bool) -> None:
    if not isinstance(blocks, list):
        errs.add(path, "must be an array")
        return
    if len(blocks) > max_count:
        errs.add(path, f"must have at most {max_count} blocks (got {len(blocks)})")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{path}[{i}]"
        before = len(errs)
        _block(errs, block, p, modal=modal)
        if len(errs) == before:
            _sdk_errors(errs, block, p)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            # Slack needs block_ids unique per message/view: state.values is keyed by them.
            if block_id in seen:
                errs.add(f"{p}.block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)


def blocks_size(blocks: Any) -> int:
    """The blocks' compact JSON in UTF-16 units: what the total of a message's blocks is held to."""
    encoded = json.dumps(blocks, ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-16-le")) // 2


def blocks_too_long(blocks: Any) -> bool:
    return isinstance(blocks, list) and blocks_size(blocks) > MAX_MESSAGE_BLOCKS_CHARS


def message_errors(blocks: list[dict] | None, text: str | None = None) -> list[str]:
    """Why Slack would refuse a message with these blocks and text; empty when it would accept it."""
    errs = _Errors()
    if not blocks and not text:
        errs.add("message", "must have text or blocks")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_MESSAGE_TEXT):
        errs.add("text", f"must be a string of at most {MAX_MESSAGE_TEXT} characters")
    if blocks is not None:
        _blocks(errs, blocks, "blocks", MAX_MESSAGE_BLOCKS, modal=False)
        if blocks_too_long(blocks):
            errs.add(
                "blocks",
                f"msg_blocks_too_long: {blocks_size(blocks)} characters, at most "
                f"{MAX_MESSAGE_BLOCKS_CHARS} in all",
            )
    return list(errs)


def view_errors(view: dict) -> list[str]:
    """Why Slack would refuse this modal or Home tab view; empty when it would accept it."""
    errs = _Errors()
    if not _obj(errs, view, "view"):
        return list(errs)
    kind = view.get("type")
    if kind not in VIEW_KEYS:
        errs.add("view.type", "must be modal or home")
        return list(errs)
    _keys(errs, view, "view", VIEW_KEYS[kind], f"a {kind} view")
    if kind == "modal":
        _text(errs, view, "title", "view", 24, plain=True)
        _text(errs, view, "submit", "view", 24, plain=True, required=False)
        _text(errs, view, "close", "view", 24, plain=True, required=False)
    _string(errs, view, "callback_id", "view", 255)
    _string(errs, view, "private_metadata", "view", 3000)
    _string(errs, view, "external_id", "view", 255)
    if "blocks" not in view:
        errs.add("view.blocks", "is required")
    else:
        _blocks(errs, view["blocks"], "view.blocks", MAX_VIEW_BLOCKS, modal=kind == "modal")
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"] or []
        )
        if kind == "modal" and has_input and not view.get("submit"):
            errs.add("view.submit", "is required when the modal has input blocks")
    return list(errs)
