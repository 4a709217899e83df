"""What the limits tests share: hostile text (mrkdwn, emoji, multibyte, up to 5,000 characters), the
Block Kit checks, and reading the count out of a "…and n more" note."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from tests.unit.test_blocks_kit import assert_message, assert_view

__all__ = ["NAMES", "TEXTS", "assert_message", "assert_view", "note_count"]

# Slack's markup, entities-to-be, emoji (one with a skin tone: two code points), multibyte letters, and
# a zero-width joiner; no "•", which the tests count list lines by.
_PIECES = st.sampled_from(
    [
        *"abcxyz *_~`>&<!@#\n:|",
        "😀",
        "👍🏽",
        "é",
        "漢字",
        "ß",
        "\u200d",
        "<!channel>",
        "```",
        ":warning:",
    ]
)
_SHORT = st.lists(_PIECES, min_size=1, max_size=40).map("".join)


def _repeat(piece: str, n: int, limit: int) -> str:
    return (piece * n)[:limit]


def huge(limit: int = 5_000) -> st.SearchStrategy[str]:
    """Text up to `limit` characters, most of it long: a short piece repeated."""
    return st.builds(_repeat, _SHORT, st.integers(1, limit), st.just(limit))


TEXTS = st.one_of(_SHORT, huge())
# Names (teams, categories, segments, causes): usually short, sometimes hundreds of characters.
NAMES = st.one_of(st.sampled_from(["Delivery Ops", "late_delivery", "R&D <ops>"]), huge(500))


def note_count(text: str, word: str = "more") -> int | None:
    """n in "…and n more", "n more, not shown", "n earlier events"; None when `text` is no such note."""
    found = re.search(rf"(\d+) {word}", text)
    return int(found.group(1)) if found else None
