"""Survey tools' webhooks end to end (SPEC §10): `loopbot run` with all five sources and secrets, the
emulator as Slack. For each tool: a documented payload with a bad signature (401, nothing stored), its
test/ping event (200, ignored, nothing stored), a signed negative response without a comment (stored,
its case posted in the team's channel), then the late update of the same response carrying the
comment (counted as updated, the case message edited in place to show it, a line in its thread)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from slack_emulator import SlackEmulator
from storage.db import make_engine, make_sessions
from storage.models import Case, Feedback
from tests.api.fixtures import (
    SECRETS,
    SOURCES,
    body,
    delighted,
    intercom,
    recently,
    standard,
    typeform,
    zendesk,
)
from tests.conftest import CONFIG
from tests.e2e.harness import CHANNELS, USERS, Bot, database_url, running_bot
from tests.factories import item

DELIVERY, SUPPORT = "C0DELIVERY", "C0SUPPORT"
WEBHOOK_CONFIG = {**copy.deepcopy(CONFIG), "sources": copy.deepcopy(SOURCES)}


@dataclass(frozen=True)
class Tool:
    """One survey tool as this test drives it: how it signs, its negative response (without or with
    the comment it sends later), its test event, and where the case lands."""

    name: str
    source: str  # the stored feedback's source
    response_id: str
    channel: str
    header: str  # the signature header its 401 names
    comment: str  # the late comment, and the category it files the case under
    category: str
    sign: Callable[[bytes], dict[str, str]]
    response: Callable[[str, datetime, str | None], Any]
    ping: Callable[[], Any]


def _standard_sign(raw: bytes) -> dict[str, str]:
    # Each delivery is a new message with an id of its own; the item's id makes it the same response.
    return standard.sign(raw, f"msg_{uuid.uuid4().hex}", datetime.now(UTC))


TOOLS = [
    Tool(
        "typeform",
        "typeform",
        "tok-e2e-late-1",
        DELIVERY,
        "Typeform-Signature",
        "The driver was late and left the box outside",
        "late_delivery",
        typeform.sign,
        lambda rid, at, comment: typeform.nps_response(rid, at, 2, comment=comment),
        lambda: typeform.sample_request(recently()),
    ),
    Tool(
        "delighted",
        "delighted",
        "5436",
        SUPPORT,
        "X-Delighted-Webhook-Signature",
        "The agent on the phone was rude to me",
        "rude_staff",
        delighted.sign,
        # Delighted sends the comment minutes later as survey_response.updated of the same response.
        lambda rid, at, comment: delighted.survey_response(
            f"survey_response.{'updated' if comment else 'created'}", rid, at, 3, comment
        ),
        delighted.unsubscribe,
    ),
    Tool(
        "zendesk",
        "zendesk",
        "35440",
        SUPPORT,
        "X-Zendesk-Webhook-Signature",
        "The app shows an error at checkout",
        "app_error",
        lambda raw: zendesk.sign(raw, datetime.now(UTC)),
        lambda rid, at, comment: zendesk.rating(int(rid), "Bad", comment or ""),
        zendesk.sample_request,
    ),
    Tool(
        "intercom",
        "intercom",
        "195208945002874",
        SUPPORT,
        "X-Hub-Signature",
        "Support was impolite when I asked twice",
        "rude_staff",
        intercom.sign,
        lambda rid, at, comment: intercom.rating_added(rid, at, 1, comment),
        intercom.ping,
    ),
    Tool(
        "standard",
        "api",  # Loopbot's own JSON: the same item sent to /api/feedback is the same response
        "std-e2e-late-1",
        DELIVERY,
        "webhook-signature",
        "The parcel never arrived",
        "late_delivery",
        _standard_sign,
        lambda rid, at, comment: item(
            id=rid, submitted_at=at.isoformat(), score=1, comment=comment or ...
        ),
        lambda: {"type": "ping", "timestamp": datetime.now(UTC).isoformat(), "data": {}},
    ),
]


@dataclass
class Running:
    """The running bot with its emulator, and the database it writes, read directly."""

    bot: Bot
    engine: Engine

    @property
    def emu(self) -> SlackEmulator:
        return self.bot.emu

    def post(
        self, tool: Tool, payload: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        raw = body(payload)  # compact JSON, as the tools post it: the signature covers these bytes
        return httpx.post(
            f"{self.bot.url}/api/webhooks/{tool.name}",
            content=raw,
            headers={"Content-Type": "application/json", **(headers or tool.sign(raw))},
            timeout=30,
        )

    def counts(self) -> tuple[int, int]:
        """(feedback rows, cases)."""
        with make_sessions(self.engine)() as s:
            return tuple(  # type: ignore[return-value]
                s.scalar(select(func.count()).select_from(model)) for model in (Feedback, Case)
            )

    def stored_comment(self, tool: Tool) -> str | None:
        with make_sessions(self.engine)() as s:
            return s.scalars(
                select(Feedback.comment).where(
                    Feedback.source == tool.source, Feedback.external_id == tool.response_id
                )
            ).one()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running(request, tmp_path_factory) -> Iterator[Running]:  # noqa: ANN001
    """One `loopbot run` per database for the whole module, with its own emulator checked as the
    conftest's `emu` is: nothing Slack sent failed, nothing the bot posted broke Slack's rules."""
    tmp_path = tmp_path_factory.mktemp(f"webhooks-{request.param}")
    with ExitStack() as stack:
        url = stack.enter_context(database_url(request.param, tmp_path))
        emu = stack.enter_context(SlackEmulator(channels=CHANNELS, users=USERS))
        bot = stack.enter_context(
            running_bot(
                tmp_path,
                url,
                socket_mode=False,
                emu=emu,
                config_data=WEBHOOK_CONFIG,
                extra_env=SECRETS,
            )
        )
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield Running(bot, engine)
        late = [(d.kind, d.payload.get("type"), d.status) for d in emu.deliveries if not d.ok]
        assert late == [], f"requests Slack would have seen fail: {late}"
        assert [p for d in emu.deliveries for p in d.problems] == []
        assert emu.internal_errors == []


def shown(message: dict | None) -> str:
    return json.dumps((message or {}).get("blocks", []), ensure_ascii=False)


def by_name(tool: Tool) -> str:
    return tool.name


@pytest.mark.parametrize("tool", TOOLS, ids=by_name)
def test_a_bad_signature_is_401_and_stores_nothing(running: Running, tool: Tool):
    before = running.counts()
    negative = tool.response(f"{tool.response_id}9", recently(), None)
    r = running.post(tool, negative, headers=tool.sign(b'{"signed":"another body"}'))
    assert r.status_code == 401, r.text
    assert tool.header in r.json()["error"] and "Nothing was stored" in r.json()["error"]
    assert running.counts() == before


@pytest.mark.parametrize("tool", TOOLS, ids=by_name)
def test_the_tools_test_event_is_200_ignored_and_stores_nothing(running: Running, tool: Tool):
    before = running.counts()
    r = running.post(tool, tool.ping())
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["ignored"], answer
    assert (answer["accepted"], answer["duplicates"], answer["updated"], answer["cases"]) == (
        (0, 0, 0, [])
    )
    assert running.counts() == before


@pytest.mark.parametrize("tool", TOOLS, ids=by_name)
def test_a_negative_opens_its_case_and_the_late_comment_updates_it_in_slack(
    running: Running, tool: Tool
):
    at, emu = recently(), running.emu
    rows, cases = running.counts()
    first = running.post(tool, tool.response(tool.response_id, at, None))
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["accepted"], answer["duplicates"], answer["updated"]) == (1, 0, 0)
    [ref] = answer["cases"]
    assert running.counts() == (rows + 1, cases + 1)
    case = running.bot.case_message(ref, tool.channel)
    assert "_No comment._" in shown(case) and "Response updated" not in shown(case)
    assert emu.replies(tool.channel, case["ts"]) == []

    late = running.post(tool, tool.response(tool.response_id, at, tool.comment))
    assert late.status_code == 200, late.text
    assert late.json() == {"accepted": 0, "duplicates": 0, "updated": 1, "cases": []}
    assert running.counts() == (rows + 1, cases + 1)  # the same response, the same case
    assert running.stored_comment(tool) == tool.comment

    # The case message, as Slack shows it after chat.update: the same message, now with the comment.
    edited = emu.wait_for(
        lambda: (m := emu.message(tool.channel, case["ts"])) and tool.comment in shown(m) and m,
        timeout=20,
        message=f"{ref} never showed {tool.comment!r}: {emu.message(tool.channel, case['ts'])}",
    )
    assert "edited" in edited and ref in edited["text"]
    assert "_No comment._" not in shown(edited)
    assert f"Category: *{tool.category}*" in shown(edited)
    assert ":pencil2: Response updated " in shown(edited)
    assert [m["ts"] for m in emu.messages(tool.channel) if ref in (m.get("text") or "")] == [
        case["ts"]
    ]  # updated in place, not posted again

    # The case's thread says the response changed, and what.
    [line] = emu.wait_for(
        lambda: emu.replies(tool.channel, case["ts"]),
        timeout=20,
        message=f"no thread reply under {ref}: {emu.summary()}",
    )
    assert line["text"].startswith(":pencil2: Response updated at "), line["text"]
    changed = f" via a webhook: comment added; category — → {tool.category}"
    assert line["text"].endswith(changed), line["text"]

    # A retry of the update is a duplicate: nothing more is stored.
    retry = running.post(tool, tool.response(tool.response_id, at, tool.comment)).json()
    assert (retry["duplicates"], retry["updated"]) == (1, 0)
