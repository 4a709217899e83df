"""Builders for raw feedback items as a survey tool would send them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

_ids = itertools.count(1)


def item(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": f"r-{next(_ids)}",
        "submitted_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "metric": "csat",
        "score": 5,
        "team": "delivery",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}
