"""The one place that posts and updates in Slack: delivers the outbox, case messages and their threads."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cases.lifecycle import Cases
from bot.charts.request import CHART_KIND
from bot.clock import utcnow
from bot.delivery.deliveries import Deliveries, Group, Wait
from bot.delivery.outbox import Claimed, Lane
from bot.reports.queries import CaseRow
from bot.slack.blocks.case import case_message, event_line, group_message
from config.teams import LoopbotConfig

log = logging.getLogger("loopbot.notifier")

# Errors Slack will give again however often we retry: the post is marked failed, not retried.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "invalid_arguments",
    }
)
MAX_BACKOFF_S = 300
# A change to a case whose own message is not in Slack yet waits this long and looks again.
WAIT_FOR_MESSAGE = timedelta(seconds=2)
# A post whose call timed out is looked for in Slack this long after, before it is sent again.
UNCERTAIN_WAIT = timedelta(seconds=30)


class Permanent(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class Notifier:
    """Delivers due outbox posts in order on one background thread; `wake()` after enqueuing."""

    LANE = Lane(
        excluding=(CHART_KIND,)
    )  # charts have their own worker: bot.slack.charts.ChartPoster
    THREAD = "loopbot-notifier"

    def __init__(
        self,
        deliveries: Deliveries,
        cases: Cases,
        config: LoopbotConfig,
        client: WebClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        poll_s: float = 0.25,
        on_failed: Callable[[str], None] | None = None,
    ):
        self.deliveries = deliveries
        self.cases = cases
        self.config = config
        self.client = client
        self.clock = clock
        self.poll_s = poll_s
        self.on_failed = on_failed
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._batch: dict[int, Claimed] = {}  # this round's claims not yet handled

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.THREAD, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        """Finish the post in hand, then stop; what is left stays in the outbox for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver_due() > 0
            except Exception:  # the database may be down for a while: keep the thread alive
                log.exception("outbox delivery round failed; retrying")
                busy = False
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def deliver_due(self, limit: int = 50) -> int:
        """Deliver what is due now; returns how many posts were handled."""
        claims = self.deliveries.claim(self.clock(), limit, self.LANE)
        self._batch = {c.id: c for c in claims}
        for claim in claims:
            if claim.id not in self._batch:  # went out in a grouped message
                continue
            if self._stop.is_set():
                self.deliveries.retry([claim], self.clock(), None, count_attempt=False)
                continue
            self._deliver(claim)
            self._batch.pop(claim.id, None)
        return len(claims)

    # -- one post --------------------------------------------------------------------------

    def _deliver(self, claim: Claimed) -> None:
        handler = self._handlers().get(claim.kind)
        if handler is None:
            self._fail([claim], f"unknown outbox kind {claim.kind!r}")
            return
        try:
            handler(claim)
        except (Permanent, SlackApiError, OSError) as exc:
            self._attempt_failed([claim], exc)

    def _handlers(self) -> dict[str, Callable[[Claimed], None]]:
        return {
            "case.open": self._case_open,
            "case.event": self._case_event,
            "post": self._plain_post,
        }

    def _case_open(self, claim: Claimed) -> None:
        now = self.clock()
        detail = self.cases.get(claim.payload["case_id"])
        if detail.case.slack_ts:  # posted already (a retried claim after its result was saved)
            self.deliveries.done(
                claim, now, {"channel": detail.case.slack_channel, "ts": detail.case.slack_ts}
            )
            return
        team = self.config.teams[detail.case.team]
        plan = self.deliveries.plan(claim, now)
        if isinstance(plan, Wait):
            self.deliveries.retry([claim], plan.until, None, count_attempt=False)
            return
        if isinstance(plan, Group):
            # Give back this round's other case posts of the channel too, so the group takes them all.
            mine = [
                c
                for c in self._batch.values()
                if c.kind == "case.open" and c.channel == claim.channel
            ]
            self.deliveries.retry(mine, now, None, count_attempt=False)
            for c in mine:
                self._batch.pop(c.id, None)
            self._post_group(team.channel, team.key)
            return
        found = self._posted_before(claim, team.channel)
        if found is None:
            found = self._post(
                channel=team.channel, metadata=_marker(claim), **case_message(detail, team, now=now)
            )["ts"]
        self.deliveries.posted([claim], team.channel, found, self.clock())

    def _plain_post(self, claim: Claimed) -> None:
        """A message rendered when it was enqueued (digest, weekly summary, leaders' escalation): post it as is."""
        if claim.channel is None:
            raise Permanent("the post names no channel")
        ts = self._posted_before(claim, claim.channel)
        if ts is None:
            ts = self._post(channel=claim.channel, metadata=_marker(claim), **claim.payload)["ts"]
        self.deliveries.done(claim, self.clock(), {"channel": claim.channel, "ts": ts})

    def _post_group(self, channel: str, team_key: str) -> None:
        now = self.clock()
        claims = self.deliveries.claim_burst(channel, now)
        if not claims:
            return
        team = self.config.teams[team_key]
        rows = [self._row(c.payload["case_id"]) for c in claims]
        try:
            resp = self._post(channel=channel, **group_message(rows, team, now=now))
        except (Permanent, SlackApiError, OSError) as exc:
            self._attempt_failed(claims, exc)
            return
        self.deliveries.posted(claims, resp["channel"], resp["ts"], self.clock(), grouped=True)

    def _case_event(self, claim: Claimed) -> None:
        now = self.clock()
        detail = self.cases.get(claim.payload["case_id"])
        case = detail.case
        if not case.slack_ts:
            state = self.deliveries.open_post_state(case.id)
            if state == "failed":
                raise Permanent(
                    f"the message of {case.ref} could not be posted, so its thread cannot be either"
                )
            self.deliveries.retry([claim], now + WAIT_FOR_MESSAGE, None, count_attempt=False)
            return
        team = self.config.teams[case.team]
        event = next((e for e in detail.events if e.id == claim.payload["event_id"]), None)
        if event is None:
            raise Permanent(f"event {claim.payload['event_id']} of {case.ref} no longer exists")
        grouped = self.deliveries.message_cases(case.slack_channel, case.slack_ts)
        if len(grouped) > 1:
            body = group_message([self._row(i) for i in grouped], team, now=now)
        else:
            body = case_message(detail, team, now=now)
        self._call("chat_update", channel=case.slack_channel, ts=case.slack_ts, **body)
        ts = self._posted_before(claim, case.slack_channel, thread=case.slack_ts)
        if ts is None:
            ts = self._post(
                channel=case.slack_channel,
                thread_ts=case.slack_ts,
                metadata=_marker(claim),
                text=event_line(event, case, team),
            )["ts"]
        self.deliveries.done(claim, self.clock(), {"channel": case.slack_channel, "ts": ts})

    def _posted_before(
        self, claim: Claimed, channel: str, *, thread: str | None = None
    ) -> str | None:
        """The ts of this post if an earlier attempt got it into Slack after all, else None.

        An attempt that timed out, hit a 5xx, or died with its process may have posted before it failed,
        and Slack's chat.postMessage takes no idempotency key: the post carries its outbox key as message
        metadata, and a retried post looks for it in the channel (or thread) first.
        """
        if claim.attempts <= 1:
            return None
        oldest = f"{claim.created_at.timestamp() - 1:.6f}"
        if thread is None:
            resp = self._call(
                "conversations_history",
                channel=channel,
                oldest=oldest,
                limit=200,
                include_all_metadata=True,
            )
        else:
            resp = self._call(
                "conversations_replies",
                channel=channel,
                ts=thread,
                oldest=oldest,
                limit=200,
                include_all_metadata=True,
            )
        for message in resp.get("messages") or []:
            if ((message.get("metadata") or {}).get("event_payload") or {}).get("key") == claim.key:
                log.info(
                    "Slack post %s was delivered by an earlier attempt (ts %s); not posting it again",
                    claim.key,
                    message["ts"],
                )
                return str(message["ts"])
        return None

    # -- Slack calls and their failures --------------------------------------------------------

    def _post(self, **kwargs):  # noqa: ANN003, ANN202
        # Customer text never unfurls into a preview of whatever link it names.
        return self._call("chat_postMessage", unfurl_links=False, unfurl_media=False, **kwargs)

    def _call(self, method: str, **kwargs):  # noqa: ANN003, ANN202
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if (
                exc.response.status_code < 500
                and exc.response.status_code != 429
                and error in PERMANENT
            ):
                raise Permanent(error) from exc
            raise

    def _attempt_failed(
        self, claims: list[Claimed], exc: Permanent | SlackApiError | OSError
    ) -> None:
        """Failed for good, rate-limited, or worth another try later."""
        if isinstance(exc, Permanent):
            self._fail(claims, exc.error)
        elif isinstance(exc, SlackApiError):
            self._slack_error(claims, exc)
        elif isinstance(exc, TimeoutError):
            # Slack may still carry out a call whose answer never came: look again (see _posted_before)
            # only once it has had time to, or the retry would post a second copy beside the late first.
            log.warning(
                "Slack post %s timed out; looking for it in Slack in %ds before posting again",
                claims[0].key,
                UNCERTAIN_WAIT.seconds,
            )
            self.deliveries.retry(claims, self.clock() + UNCERTAIN_WAIT, f"timed out: {exc}")
        else:
            self._backoff(claims, f"{type(exc).__name__}: {exc}")

    def _slack_error(self, claims: list[Claimed], exc: SlackApiError) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429:
            wait = _retry_after(exc)
            self.deliveries.retry(
                claims, self.clock() + timedelta(seconds=wait), f"ratelimited (Retry-After {wait}s)"
            )
            return
        self._backoff(claims, error)

    def _backoff(self, claims: list[Claimed], error: str) -> None:
        attempts = max(c.attempts for c in claims)
        delay = min(MAX_BACKOFF_S, 2 ** min(attempts, 9)) * random.uniform(0.5, 1.0)
        log.warning(
            "Slack post %s failed (%s), attempt %d; retrying in %.0fs",
            claims[0].key,
            error,
            attempts,
            delay,
        )
        self.deliveries.retry(claims, self.clock() + timedelta(seconds=delay), error)

    def _fail(self, claims: list[Claimed], error: str) -> None:
        for c in claims:
            log.error("Slack post %s to channel %s failed for good: %s", c.key, c.channel, error)
            if self.on_failed is not None:
                self.on_failed(c.kind)
        self.deliveries.failed(claims, self.clock(), error)

    def _row(self, case_id: int) -> CaseRow:
        detail = self.cases.get(case_id)
        c, t = detail.case, detail.timings
        return CaseRow(
            id=c.id,
            kind=c.kind,
            team=c.team,
            state=c.state,
            severity=c.severity,
            opened_at=c.opened_at,
            assignee=c.assignee,
            summary=dict(c.summary or {}),
            acknowledged_at=t.acknowledged_at,
            ack_due=t.ack_due,
            resolve_due=t.resolve_due,
        )


def _marker(claim: Claimed) -> dict:
    """Message metadata naming the outbox post, so a retry can tell it reached Slack (_posted_before)."""
    return {"event_type": "loopbot_post", "event_payload": {"key": claim.key}}


def _retry_after(exc: SlackApiError) -> int:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
