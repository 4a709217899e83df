"""OpenAPI description of the ingestion endpoints: the handlers read the raw body themselves."""

from __future__ import annotations

from pydantic import BaseModel

from bot.feedback.schema import (
    EARLIEST_TEXT,
    EXAMPLE_TS,
    MAX_BATCH,
    NO_CONTROL,
    NO_NUL,
    FeedbackIn,
)
from bot.scores import SCALES

# RFC 3339 (format: date-time) less what the validator refuses of it: leap seconds, and year 0000
# and 0001 (the first hours of 0001-01-01 at a positive offset are before the earliest instant).
_TIMESTAMP = (
    r"^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}"
    r"[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _item_schema() -> dict:
    """FeedbackIn's JSON Schema plus what the validator checks beyond each field's own type, so that a
    client generated from /openapi.json (or a fuzzer) is not promised acceptance of what gets a 422.
    What JSON Schema cannot say (configured teams, the server clock) is in the descriptions."""
    schema = FeedbackIn.model_json_schema()
    props = schema["properties"]
    ranges = ", ".join(f"{metric} {low}–{high}" for metric, (low, high) in SCALES.items())
    props["score"] |= {
        "minimum": min(low for low, _ in SCALES.values()),
        "maximum": max(high for _, high in SCALES.values()),
        "description": f"An integer inside the metric's scale: {ranges}.",
    }
    props["submitted_at"] |= {
        "pattern": _TIMESTAMP,
        "description": (
            f"ISO-8601 with an offset (Z or +01:00), e.g. {EXAMPLE_TS}; not a Unix time. "
            f"From {EARLIEST_TEXT} to at most 5 minutes ahead of the server clock."
        ),
    }
    props["team"]["description"] = "A team key of the configuration; wins over `touchpoint`."
    props["touchpoint"]["description"] = "Mapped to a team by the configuration's `routing`."
    # pydantic puts the key pattern in patternProperties, which lets any other key through.
    attributes = props["attributes"]["anyOf"][0]
    del attributes["patternProperties"]
    attributes["propertyNames"]["pattern"] = NO_CONTROL
    attributes["additionalProperties"] = {
        "type": ["string", "number", "boolean", "null"],
        "pattern": NO_NUL,
    }
    schema["allOf"] = [
        {
            "if": {"properties": {"metric": {"const": metric}}, "required": ["metric"]},
            "then": {"properties": {"score": {"minimum": low, "maximum": high}}},
        }
        for metric, (low, high) in SCALES.items()
    ]
    # `required` alone would accept `"team": null`, which the validator refuses.
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("team", "touchpoint")
    ]
    return schema


_ITEM = _item_schema()


class Accepted(BaseModel):
    accepted: int
    duplicates: int
    updated: int  # re-sent (source, id) pairs with a field of SPEC §10 changed
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
        "description": (
            "Stored. A re-sent (source, id) is a duplicate when its comment, score, tags, attributes, "
            "customer and segment are all equal to the stored ones, else an update: stored (masked and "
            "categorised again), its case's message updated with a timeline line saying what changed, "
            "and its case opened if it turned negative within 24 hours of submission. "
            "accepted + duplicates + updated = the items sent."
        ),
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


# --- the webhooks (SPEC §10): each tool's own payload, as far as Loopbot reads it ----------------------


def _obj(description: str = "", **properties: object) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    return {**schema, "description": description} if description else schema


_STR, _INT = {"type": "string"}, {"type": "integer"}
_ID = {"type": ["string", "integer"]}
_NAMED = {"type": "object", "additionalProperties": {"type": ["string", "number", "null"]}}

WEBHOOK_PAYLOADS: dict[str, dict] = {
    "typeform": _obj(
        "Typeform's form_response event; the score and comment are answers picked by field ref",
        event_id=_STR,
        event_type={"type": "string", "enum": ["form_response", "form_response_partial"]},
        form_response=_obj(
            form_id=_STR,
            token={"type": "string", "description": "the response id"},
            submitted_at={"type": "string", "format": "date-time"},
            hidden={**_NAMED, "description": "hidden fields, read as hidden.<name>"},
            answers={
                "type": "array",
                "items": _obj(
                    type=_STR,
                    field=_obj(id=_STR, ref=_STR, type=_STR),
                    number={"type": "integer", "description": "opinion scale, rating, number"},
                    text={"type": "string", "description": "short and long text"},
                ),
            },
        ),
    ),
    "delighted": _obj(
        "Delighted's survey_response.created / .updated events (others are answered and ignored)",
        event_type=_STR,
        event_id=_STR,
        event_data=_obj(
            id=_STR,
            survey_type={"type": "string", "enum": ["nps", "csat", "ces"]},
            score=_INT,
            comment={"type": ["string", "null"]},
            created_at={"type": "integer", "description": "Unix seconds"},
            person=_obj(id=_STR, email=_STR, name=_STR),
            person_properties={**_NAMED, "description": "read as properties.<name>"},
        ),
    ),
    "zendesk": _obj(
        "The JSON body a Zendesk trigger sends, written with Zendesk's placeholders (README)",
        ticket=_obj(id={**_ID, "description": "{{ticket.id}}"}),
        satisfaction=_obj(
            current_rating={"type": "string", "description": "{{satisfaction.current_rating}}"},
            current_comment={"type": "string", "description": "{{satisfaction.current_comment}}"},
        ),
    ),
    "intercom": _obj(
        "Intercom's notification_event of topic conversation.rating.added (ping answered, ignored)",
        type=_STR,
        topic=_STR,
        created_at={"type": "integer", "description": "Unix seconds"},
        data=_obj(
            item=_obj(
                id=_STR,
                custom_attributes={**_NAMED, "description": "read as attributes.<name>"},
                conversation_rating=_obj(
                    rating={"type": "integer", "minimum": 1, "maximum": 5},
                    remark={"type": ["string", "null"]},
                    created_at=_INT,
                    contact=_obj(id=_STR, external_id=_STR),
                ),
            )
        ),
    ),
    "standard": REQUEST_BODY["requestBody"]["content"]["application/json"]["schema"],
}

WEBHOOK_HEADERS: dict[str, list[tuple[str, str]]] = {
    "typeform": [("Typeform-Signature", "sha256= and the base64 HMAC-SHA256 of the raw body")],
    "delighted": [
        ("X-Delighted-Webhook-Signature", "sha256= and the hex HMAC-SHA256 of the raw body")
    ],
    "zendesk": [
        ("X-Zendesk-Webhook-Signature", "base64 HMAC-SHA256 of the timestamp and the raw body"),
        ("X-Zendesk-Webhook-Signature-Timestamp", "ISO-8601; refused when 5 minutes old"),
    ],
    "intercom": [("X-Hub-Signature", "sha1= and the hex HMAC-SHA1 of the raw body")],
    "standard": [
        ("webhook-id", "the message id"),
        ("webhook-timestamp", "Unix seconds; refused when 5 minutes old"),
        ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>, space-separated"),
    ],
}


def webhook_openapi(tool: str) -> dict:
    return {
        "parameters": [
            {"name": name, "in": "header", "required": True, "schema": _STR, "description": what}
            for name, what in WEBHOOK_HEADERS[tool]
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WEBHOOK_PAYLOADS[tool]}},
        },
    }


class WebhookAccepted(Accepted):
    ignored: str | None = None  # a test, ping or non-response event: nothing was stored


class WebhookError(ItemErrorOut):
    path: str | None = None  # where the tool's payload holds the field


class WebhookErrors(BaseModel):
    errors: list[WebhookError]


WEBHOOK_RESPONSES: dict[int | str, dict] = {
    200: {
        "model": WebhookAccepted,
        "description": "Stored (a retry is a duplicate), or a test/ping answered with `ignored`",
    },
    400: {"model": ItemErrors, "description": "The body is not JSON"},
    401: {"model": Refusal, "description": "Bad or missing signature, or a replayed timestamp"},
    413: {"model": Refusal, "description": "A body over the size limit, or too many items"},
    422: {
        "model": WebhookErrors,
        "description": "The payload cannot be mapped: the field and the tool's path to it",
    },
    503: {
        "model": Refusal,
        "description": "Secret not set, tool not under sources:, or database unavailable",
    },
}
