"""A Block Kit message as plain text for a terminal (`loopbot digest` without --post)."""

from __future__ import annotations

import re
from typing import Any

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<[@#!]([^>|]+)>")


def plain_text(message: dict[str, Any]) -> str:
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "divider":
            lines.append("-" * 60)
        elif kind in ("header", "section"):
            if block.get("text"):
                lines.append(_plain(block["text"]["text"]))
            lines += [_plain(f["text"]) for f in block.get("fields") or []]
        elif kind == "context":
            lines.append("  ".join(_plain(e.get("text", "")) for e in block.get("elements") or []))
        elif kind == "actions":
            lines.append(
                "  ".join(
                    f"[{e['text']['text']}]" for e in block.get("elements") or [] if e.get("text")
                )
            )
    return "\n".join(lines) if lines else _plain(message.get("text") or "")


def _plain(text: str) -> str:
    text = _LINK.sub(r"\2", text)
    text = _MENTION.sub(r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
