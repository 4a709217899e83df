"""Slack's limits on Block Kit in one place: how a payload is measured, and per-element cuts within them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.slack.blocks.text import cut, truncate

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # modals and App Home
SECTION_TEXT = 3_000
FIELD_TEXT = 2_000  # each of a section's fields
MAX_FIELDS = 10
CONTEXT_TEXT = 2_000  # each text element of a context block
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
HEADER_TEXT = 150
BUTTON_TEXT = 75
OPTION_TEXT = 75  # an option's text and its description
PLACEHOLDER_TEXT = 150
LABEL_TEXT = 2_000  # an input's label and hint
VIEW_TITLE = 24  # a modal's title, submit and close
# Slack refuses a message whose blocks add up to about 13,200 characters (`msg_blocks_too_long`:
# undocumented, measured in slackapi/bolt-js#2509 and #2867). We count the blocks' compact JSON in
# UTF-16 units (what a JavaScript length says; an emoji counts twice), which is more than their text,
# and stop at 12,000: the emulator refuses at 13,000, so a renderer that drifts is caught with room.
MESSAGE_CHARS = 12_000
# Slack keeps 40,000 characters of a message's `text`; with blocks it is only the notification line.
FALLBACK_TEXT = 3_000

_TEXTS = ("plain_text", "mrkdwn")
# Below this a cut text says nothing; past it, blocks are dropped instead (fit's last resort).
_MIN_CAP = 60


def size(payload: Any) -> int:
    """What Slack's total counts, conservatively: the compact JSON of `payload` in UTF-16 units."""
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-16-le")) // 2


def cost(blocks: list[Block]) -> int:
    """The size of `blocks` as a list, less its brackets: each block and its comma."""
    return sum(size(b) + 1 for b in blocks)


def cut_text(obj: Any, limit: int) -> Any:
    """A text object with its text within `limit`: mrkdwn cut whole (entities, mentions, code blocks)."""
    if (
        not isinstance(obj, dict)
        or obj.get("type") not in _TEXTS
        or not isinstance(obj.get("text"), str)
    ):
        return obj
    text = obj["text"]
    if len(text) <= limit:
        return obj
    short = cut(text, limit) if obj["type"] == "mrkdwn" else truncate(text, limit)
    return {**obj, "text": short}


Cutter = Callable[[Any, int], Any]


def map_texts(block: Block, fn: Cutter = cut_text) -> Block:
    """`block` with `fn(text object, Slack's limit for it)` applied to each text it holds; lists that
    Slack bounds (fields, context and actions elements) are cut to their count."""
    b = dict(block)
    kind = b.get("type")
    if kind == "section":
        if "text" in b:
            b["text"] = fn(b["text"], SECTION_TEXT)
        if isinstance(b.get("fields"), list):
            b["fields"] = [fn(f, FIELD_TEXT) for f in b["fields"][:MAX_FIELDS]]
        if isinstance(b.get("accessory"), dict):
            b["accessory"] = _element(b["accessory"], fn)
    elif kind == "header":
        b["text"] = fn(b.get("text"), HEADER_TEXT)
    elif kind == "context" and isinstance(b.get("elements"), list):
        b["elements"] = [fn(e, CONTEXT_TEXT) for e in b["elements"][:MAX_CONTEXT_ELEMENTS]]
    elif kind == "actions" and isinstance(b.get("elements"), list):
        b["elements"] = [_element(e, fn) for e in b["elements"][:MAX_ACTIONS_ELEMENTS]]
    elif kind == "input":
        for key in ("label", "hint"):
            if key in b:
                b[key] = fn(b[key], LABEL_TEXT)
        if isinstance(b.get("element"), dict):
            b["element"] = _element(b["element"], fn)
    return b


def _element(e: dict[str, Any], fn: Cutter) -> dict[str, Any]:
    e = dict(e)
    if e.get("type") == "button" and "text" in e:
        e["text"] = fn(e["text"], BUTTON_TEXT)
    if "placeholder" in e:
        e["placeholder"] = fn(e["placeholder"], PLACEHOLDER_TEXT)
    if isinstance(e.get("options"), list):
        e["options"] = [_option(o, fn) for o in e["options"]]
    if isinstance(e.get("option_groups"), list):
        e["option_groups"] = [
            {**g, "options": [_option(o, fn) for o in g.get("options") or []]}
            for g in e["option_groups"]
            if isinstance(g, dict)
        ]
    # An initial option must equal one of the options, so it is cut the same way.
    if isinstance(e.get("initial_option"), dict):
        e["initial_option"] = _option(e["initial_option"], fn)
    return e


def _option(o: Any, fn: Cutter) -> Any:
    if not isinstance(o, dict):
        return o
    o = dict(o)
    for key in ("text", "description"):
        if key in o:
            o[key] = fn(o[key], OPTION_TEXT)
    return o


def clamp(block: Block) -> Block:
    """A copy of `block` within Slack's per-element limits: the net under renderers that already cut."""
    return map_texts(block)


def shrink(blocks: list[Block], budget: int) -> list[Block]:
    """`blocks` with their longest texts cut to one common length, the largest that keeps `cost` within
    `budget`: short lines (names, facts, buttons) stay whole while long free texts give way."""
    if cost(blocks) <= budget:
        return blocks

    def capped(cap: int) -> list[Block]:
        return [map_texts(b, lambda o, limit: cut_text(o, min(limit, cap))) for b in blocks]

    lo, hi = _MIN_CAP, max(SECTION_TEXT, _MIN_CAP)
    if cost(capped(lo)) > budget:
        return capped(lo)  # the caller drops blocks: cutting further would leave nothing to read
    while lo < hi:  # the largest cap that fits
        mid = (lo + hi + 1) // 2
        if cost(capped(mid)) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return capped(lo)
