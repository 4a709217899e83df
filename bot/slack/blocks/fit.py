"""The one pass every message and view goes through: lists stop at a budget and say "…and n more",
long texts give way, so Slack never refuses what Loopbot builds, whatever the data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.slack.blocks.limits import (
    CONTEXT_TEXT,
    FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    MESSAGE_CHARS,
    SECTION_TEXT,
    VIEW_TITLE,
    clamp,
    cost,
    cut_text,
    shrink,
)
from bot.slack.blocks.text import cut, pack_lines

Block = dict[str, Any]


def and_more(n: int) -> str:
    return f"…and {n} more" if n > 0 else ""


@dataclass(frozen=True)
class Listing:
    """A list inside a message: as many of its items as the message has room for, then a note.

    `items` are mrkdwn lines (packed several to a section) or blocks (one each, e.g. with a button).
    `more(n)` is the note for n items left out ("" for none: no note); `total` counts the list when
    `items` are only its first page. `title` is the first line of the first section, shown always.
    `latest` keeps the end (a timeline) and puts the note first. `wrap` turns a section's lines into
    its text (a table's code block and column names). `inline` puts the note as a last line rather
    than a context block. `reserve`: characters long texts elsewhere give up so this list shows some.
    """

    items: Sequence[str | Block]
    more: Callable[[int], str] = and_more
    total: int | None = None
    title: str | None = None
    latest: bool = False
    wrap: Callable[[str], str] | None = None
    inline: bool = False
    max_items: int | None = None
    max_sections: int | None = None
    reserve: int = 0

    @property
    def count(self) -> int:
        return max(self.total or 0, len(self.items))

    def most(self) -> int:
        """How many items may show at all."""
        return min(
            len(self.items), self.max_items if self.max_items is not None else len(self.items)
        )

    def render(self, k: int) -> list[Block]:
        """The blocks with `k` items shown (the first k, or the last k when `latest`)."""
        shown = list(self.items[len(self.items) - k :] if self.latest else self.items[:k])
        note = self.more(self.count - k)
        body: list[Block] = []
        lines: list[str] = [self.title] if self.title is not None else []
        for item in shown:
            if isinstance(item, str):
                lines.append(item)
                continue
            body += self._sections(lines)
            lines = []
            body.append(clamp(item))
        if note and self.inline:
            lines.append(note)
        body += self._sections(lines)
        if not note or self.inline:
            return body
        context = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": cut(note, CONTEXT_TEXT)}],
        }
        return [context, *body] if self.latest else [*body, context]

    def _sections(self, lines: list[str]) -> list[Block]:
        wrap = self.wrap or (lambda text: text)
        room = SECTION_TEXT - len(wrap(""))
        return [
            {"type": "section", "text": {"type": "mrkdwn", "text": wrap("\n".join(group))}}
            for group in pack_lines(lines, room)
        ]


Part = Block | Listing


def fit(
    parts: Sequence[Part],
    *,
    max_blocks: int = MAX_MESSAGE_BLOCKS,
    max_chars: int | None = MESSAGE_CHARS,
) -> list[Block]:
    """`parts` as blocks within `max_blocks` and `max_chars` (measured by limits.size): every text within
    its element's limit, each list as long as its fair share of the room allows."""
    fixed = [clamp(p) for p in parts if not isinstance(p, Listing)]
    lists = [p for p in parts if isinstance(p, Listing)]
    floors = [p.render(0) for p in lists]
    fulls = [_largest(p, None, None) for p in lists]
    chars = max_chars if max_chars is not None else 1 << 40
    # Lists keep at least their note and what they reserve; long fixed texts give way to make room.
    keep = sum(
        cost(f) + max(min(p.reserve, cost(g) - cost(f)), 0) for p, f, g in zip(lists, floors, fulls)
    )
    fixed = shrink(fixed, chars - 1 - keep)
    room_blocks = max_blocks - len(fixed) - sum(len(f) for f in floors)
    room_chars = chars - 1 - cost(fixed) - sum(cost(f) for f in floors)
    more_blocks = _shares(max(room_blocks, 0), [len(g) - len(f) for f, g in zip(floors, fulls)])
    more_chars = _shares(max(room_chars, 0), [cost(g) - cost(f) for f, g in zip(floors, fulls)])
    rendered = iter(
        _largest(p, len(f) + b, cost(f) + c)
        for p, f, b, c in zip(lists, floors, more_blocks, more_chars)
    )
    fixed_left = iter(fixed)
    out = [
        b for p in parts for b in (next(rendered) if isinstance(p, Listing) else [next(fixed_left)])
    ]
    # The last resort, for fixed blocks too many or too long for any cut above: never refused.
    out = shrink(out, chars - 1)[:max_blocks]
    while len(out) > 1 and cost(out) + 1 > chars:
        out.pop()
    return out


def _largest(listing: Listing, max_blocks: int | None, max_chars: int | None) -> list[Block]:
    """The rendering with the most items within the allowance (the floor when even one does not fit)."""

    def fits(k: int) -> bool:
        blocks = listing.render(k)
        sections = sum(1 for b in blocks if b.get("type") == "section")
        if listing.max_sections is not None and sections > listing.max_sections:
            return False
        if max_blocks is not None and len(blocks) > max_blocks:
            return False
        return max_chars is None or cost(blocks) <= max_chars

    if fits(listing.most()):  # all of it, with no note: sometimes less than a few and the note
        return listing.render(listing.most())
    lo, hi = 0, listing.most() - 1
    while lo < hi:  # with the note, showing more never takes less room but for its few digits
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    while lo > 0 and not fits(lo):
        lo -= 1
    return listing.render(lo)


def _shares(room: int, wants: list[int]) -> list[int]:
    """`room` split so that no one gets more than it wants and the rest share equally (max-min fair)."""
    given = [0] * len(wants)
    order = sorted(range(len(wants)), key=lambda i: wants[i])
    for j, i in enumerate(order):
        given[i] = max(min(wants[i], room // (len(order) - j)), 0)
        room -= given[i]
    return given


def fit_message(text: str, parts: Sequence[Part]) -> dict[str, Any]:
    """A chat.postMessage / respond payload: the fallback `text` and `parts` fitted to a message."""
    return {"text": cut(text, FALLBACK_TEXT), "blocks": fit(parts)}


def fit_view(view: dict[str, Any], parts: Sequence[Part] | None = None) -> dict[str, Any]:
    """A modal or App Home view with its blocks (or `parts`) fitted: 100 blocks, each within its limits.
    Slack documents no total for views; a message's blocks (12,000) shown in a modal always fit."""
    out = dict(view)
    for key in ("title", "submit", "close"):
        if key in out:
            out[key] = cut_text(out[key], VIEW_TITLE)
    out["blocks"] = fit(
        parts if parts is not None else view["blocks"], max_blocks=MAX_VIEW_BLOCKS, max_chars=None
    )
    return out
