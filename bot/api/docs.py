"""OpenAPI description of the ingestion endpoint (the handler reads the raw body itself)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.feedback.schema import MAX_BATCH, FeedbackIn

_ITEM = FeedbackIn.model_json_schema()


class Accepted(BaseModel):
    accepted: int
    duplicates: int
    cases: list[str]


class ItemErrorOut(BaseModel):
    index: int | None
    field: str
    message: str


class ItemErrors(BaseModel):
    errors: list[ItemErrorOut]


class Refusal(BaseModel):
    error: str


# The handler parses the body itself so that a bad batch answers with every error by index
# (FastAPI's own validation would answer in its own shape); this tells OpenAPI what it accepts.
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _ITEM,
                        {"type": "array", "items": _ITEM, "minItems": 1, "maxItems": MAX_BATCH},
                    ],
                }
            }
        },
    }
}

RESPONSES: dict[int | str, dict] = {
    200: {
        "model": Accepted,
        "description": "Stored; duplicates of earlier (source, id) pairs are skipped",
    },
    400: {"model": ItemErrors, "description": "The body is not JSON"},
    401: {"model": Refusal, "description": "Missing or wrong bearer token"},
    413: {
        "model": Refusal,
        "description": f"More than {MAX_BATCH} items, or a body over the size limit",
    },
    422: {
        "model": ItemErrors,
        "description": "Invalid items, each error by index and field; nothing was stored",
    },
    503: {
        "model": Refusal,
        "description": "Ingestion disabled (no token configured) or database unavailable",
    },
}
