"""Assign a complaint category to a comment from the taxonomy's keywords."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol


class HasKeywords(Protocol):
    """What `from_config` needs of a category (config.teams.Category fits, without an import)."""

    @property
    def keywords(self) -> Sequence[str]: ...


def _keyword_pattern(keyword: str) -> str:
    # Escaped so "c++" or "wi-fi" mean themselves; the words of a phrase may be separated by any
    # run of whitespace, line breaks included ("never\n arrived").
    first, *rest = keyword.casefold().split()
    # Whole words: nothing of a word may come before or after. Lookarounds rather than \b, which
    # needs a word character on the inside ("c++" would never match at its end). The lookbehind
    # comes after the first character, not before it, so that `re` can skip through the text to
    # the keywords' first letters instead of trying every position: three times faster.
    head = re.escape(first[0]) + r"(?<!\w.)" + re.escape(first[1:])
    return r"\s+".join([head, *map(re.escape, rest)])


class Categorizer:
    """Finds the first configured category with a keyword in the text.

    Keywords match whole words and phrases, case-insensitively: "late" matches "Late!" and
    "arrived late." but not "chocolate" or "latest". There is no stemming: "delay" does not
    match "delayed"; list each form that should count. When several categories match, the one
    configured first wins, wherever its keyword appears in the text.
    """

    def __init__(self, categories: Mapping[str, Iterable[str]]):
        rules: list[tuple[str, re.Pattern[str]]] = []
        for key, keywords in categories.items():
            patterns = []
            for keyword in keywords:
                if not keyword.strip():
                    # An empty keyword would match every comment.
                    raise ValueError(f"category {key!r}: empty keyword")
                patterns.append(_keyword_pattern(keyword))
            if not patterns:
                continue  # a category without keywords is only ever assigned by hand
            rules.append((key, re.compile(rf"(?:{'|'.join(patterns)})(?!\w)")))
        # One pattern per category, not one alternation over all: a single scan would report the
        # keyword that comes first in the text, not the category that comes first in the config.
        self._rules = tuple(rules)
        self.keys: tuple[str, ...] = tuple(categories)

    @classmethod
    def from_config(cls, categories: Mapping[str, HasKeywords]) -> Categorizer:
        """Build from the configured taxonomy: key -> object with a `.keywords` list."""
        return cls({key: category.keywords for key, category in categories.items()})

    def categorize(self, text: str | None) -> str | None:
        """The key of the first configured category whose keywords occur in `text`, else None."""
        if not text:
            return None
        # Keywords and text are both case-folded, which also equates "ß" and "ss"; cheaper than
        # re.IGNORECASE, which keeps `re` from skipping ahead.
        folded = text.casefold()
        for key, pattern in self._rules:
            if pattern.search(folded):
                return key
        return None
