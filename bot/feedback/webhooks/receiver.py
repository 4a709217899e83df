"""One webhook endpoint minus HTTP: secret, signature, payload, mapping, then the ingestion core."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, Literal

import pydantic_core

from bot.feedback.ingest import Ingestor, IngestResult
from bot.feedback.schema import MAX_BATCH
from bot.feedback.webhooks import delighted, intercom, standard, typeform, zendesk
from bot.feedback.webhooks.common import Ignored, Unmappable
from config.settings import Settings, webhook_secret_env
from config.sources import Sources

TOOLS: dict[str, ModuleType] = {m.NAME: m for m in (typeform, delighted, zendesk, intercom)}
# Shown in the timeline as where a case came from; the feedback's source is the tool's name.
ORIGIN = "webhook"
# Loopbot's own JSON, as /api/feedback takes it: the same item sent either way is the same response.
STANDARD_SOURCE = "api"

Kind = Literal[
    "disabled", "unsigned", "not_json", "unconfigured", "too_many", "invalid", "ignored", "stored"
]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    message: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    result: IngestResult | None = None


class Receiver:
    """A survey tool's webhook: its own signature and payload, mapped through `sources:`."""

    def __init__(self, tool: ModuleType, key: bytes | None, mapper: Any, ingestor: Ingestor):
        self.tool, self.key, self.mapper, self.ingestor = tool, key, mapper, ingestor

    def receive(self, body: bytes, headers: Mapping[str, str], now: datetime) -> Outcome:
        """Store what one signed request carries, or say why not; nothing is stored unless all is valid."""
        label = self.tool.LABEL
        if self.key is None:
            return Outcome(
                "disabled",
                f"{label} webhooks are disabled: set {webhook_secret_env(self.tool.NAME)} and "
                "restart Loopbot.",
            )
        reason = self.tool.verify(self.key, body, headers, now)
        if reason is not None:
            return Outcome(
                "unsigned", f"Bad or missing {label} signature: {reason}. Nothing was stored."
            )
        try:
            payload = pydantic_core.from_json(body)
        except ValueError as exc:
            return Outcome("not_json", errors=[_body_error(f"is not valid UTF-8 JSON: {exc}")])
        return self.handle(payload, headers, now)

    def handle(self, payload: Any, headers: Mapping[str, str], now: datetime) -> Outcome:
        if self.mapper is None:
            return Outcome(
                "unconfigured",
                f"{self.tool.LABEL} is not configured: add {self.tool.NAME} under sources: in the "
                "YAML config and restart Loopbot. Nothing was stored.",
            )
        try:
            mapped = self.mapper.map(payload, headers)
        except Unmappable as exc:
            return Outcome("invalid", errors=[exc.as_dict()])
        if isinstance(mapped, Ignored):
            return Outcome("ignored", mapped.reason)
        valid, errors = self.ingestor.validate([mapped.item], now)
        if errors:
            # The item's field, and where the tool's payload holds it.
            return Outcome(
                "invalid",
                errors=[
                    {
                        "index": None,
                        "field": e.field,
                        "path": mapped.paths.get(e.field.split(".")[0].split("[")[0]),
                        "message": e.message,
                    }
                    for e in errors
                ],
            )
        return self.store(valid, self.tool.NAME, now)

    def store(self, valid: list, source: str, now: datetime) -> Outcome:
        result = self.ingestor.store(valid, default_source=source, origin=ORIGIN, now=now)
        return Outcome("stored", result=result)


class StandardReceiver(Receiver):
    """Loopbot's own JSON (SPEC §4) from any sender that signs the Standard Webhooks way."""

    def handle(self, payload: Any, headers: Mapping[str, str], now: datetime) -> Outcome:
        if (ping := standard.ping(payload)) is not None:
            return Outcome("ignored", ping.reason)
        items = [payload] if isinstance(payload, dict) else payload
        if not isinstance(items, list):
            return Outcome(
                "invalid", errors=[_body_error("must be a feedback object or an array of them")]
            )
        if len(items) > MAX_BATCH:
            return Outcome(
                "too_many", f"{len(items)} items in one request; send at most {MAX_BATCH}."
            )
        if not items:
            return Outcome(
                "invalid", errors=[_body_error("is an empty array; send at least one item")]
            )
        valid, errors = self.ingestor.validate(items, now)
        if errors:
            return Outcome("invalid", errors=[e.as_dict() for e in errors])
        return self.store(valid, STANDARD_SOURCE, now)


def _body_error(message: str) -> dict[str, Any]:
    return {"index": None, "field": "body", "message": message}


def receivers(settings: Settings, sources: Sources, ingestor: Ingestor) -> dict[str, Receiver]:
    """Every endpoint's receiver, built once: secrets read and `sources:` compiled at start."""
    built: dict[str, Receiver] = {}
    for name, tool in TOOLS.items():
        secret, source = settings.webhook_secret(name), getattr(sources, name)
        key = secret.get_secret_value().encode() if secret is not None else None
        built[name] = Receiver(tool, key, tool.Mapper(source) if source else None, ingestor)
    secret = settings.webhook_secret(standard.NAME)
    key = standard.key(secret.get_secret_value()) if secret is not None else None
    built[standard.NAME] = StandardReceiver(standard, key, None, ingestor)
    return built
