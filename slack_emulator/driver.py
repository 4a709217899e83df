"""Slack acting towards the app: signed HTTP requests or Socket Mode envelopes, and what Slack does with the answer."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slack_emulator import payloads
from slack_emulator.blockkit import message_errors, view_errors
from slack_emulator.state import SlackError


@dataclass
class Delivery:
    """One request Slack made to the app and the app's answer."""

    kind: str  # "slash_commands" | "interactive" | "events_api"
    payload: dict
    transport: str  # "http" | "socket"
    # HTTP status; over Socket Mode 200 once acked. "no ack" / "timeout": nothing within Slack's 3 s.
    status: int | str
    body: str = ""
    response: dict | None = None  # the app's JSON answer (HTTP body or ack payload)
    elapsed: float = 0.0
    envelope_id: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    retry_num: int = 0
    retry_reason: str = ""
    problems: list[str] = field(default_factory=list)
    sent: float = 0.0  # wall clock when the request left, comparable with the call records' `time`  # what Slack would have refused in the answer

    @property
    def ok(self) -> bool:
        return self.status == 200


def _parse_answer(text: str) -> dict | None:
    if not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        # Slack shows a non-JSON slash command answer as the message text.
        return {"text": text}
    return parsed if isinstance(parsed, dict) else None


class Driver:
    """Mixed into SlackEmulator: everything a person in Slack can do to the app."""

    _http_url: str | None = None
    _http_secret: str | None = None

    def deliver_http(self, request_url: str, signing_secret: str | None = None) -> None:
        """Send requests to the app over HTTP at request_url (Bolt's /slack/events), signed with signing_secret."""
        self._http_url, self._http_secret = request_url, signing_secret or self.signing_secret

    def deliver_socket(self) -> None:
        """Send requests over Socket Mode (the default until deliver_http is called)."""
        self._http_url = None

    @property
    def request_url(self) -> str | None:
        return self._http_url

    def _http_client(self) -> httpx.Client:
        # One keep-alive client per thread: building one per request costs more CPU (its TLS
        # context) than the app's whole answer, and would slow every test and benchmark.
        local = self.__dict__.setdefault("_http_local", threading.local())
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=self.ack_timeout)
            self.__dict__.setdefault("_http_clients", []).append(local.client)
        return local.client

    def close_http_clients(self) -> None:
        """Close the keep-alive clients of every thread that sent (the next send opens a new one)."""
        for client in self.__dict__.pop("_http_clients", []):
            client.close()

    # -- transport

    def _send(
        self, kind: str, payload: dict, *, retry_num: int = 0, retry_reason: str = ""
    ) -> Delivery:
        if self._http_url:
            delivery = self._send_http(kind, payload, retry_num, retry_reason)
        else:
            delivery = self._send_socket(kind, payload, retry_num, retry_reason)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def _send_http(self, kind: str, payload: dict, retry_num: int, retry_reason: str) -> Delivery:
        if kind == "slash_commands":
            body, content_type = urlencode(payload), "application/x-www-form-urlencoded"
        elif kind == "interactive":
            body, content_type = (
                urlencode({"payload": json.dumps(payload)}),
                "application/x-www-form-urlencoded",
            )
        else:
            body, content_type = json.dumps(payload), "application/json"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": SignatureVerifier(self._http_secret).generate_signature(
                timestamp=timestamp, body=body
            ),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_num:
            headers.update(
                {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            )
        delivery = Delivery(
            kind,
            payload,
            "http",
            "timeout",
            request_headers=headers,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )
        client, content = (
            self._http_client(),
            body.encode(),
        )  # made before the clock starts: not Slack's time
        delivery.sent, started = time.time(), time.monotonic()
        try:
            # Slack gives up after 3 seconds; so does the emulator.
            answer = client.post(self._http_url, content=content, headers=headers)
            delivery.status, delivery.body = answer.status_code, answer.text
            delivery.response = _parse_answer(answer.text) if answer.status_code == 200 else None
        except httpx.TimeoutException:
            delivery.status = "timeout"
        except httpx.TransportError as exc:
            delivery.status, delivery.body = "unreachable", str(exc)
        delivery.elapsed = time.monotonic() - started
        return delivery

    def _send_socket(self, kind: str, payload: dict, retry_num: int, retry_reason: str) -> Delivery:
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "slash_commands"
            or payload.get("type") == "view_submission",
        }
        if kind == "events_api" or retry_num:
            envelope.update(retry_attempt=retry_num, retry_reason=retry_reason)
        if not self.socket.connected:
            self.wait_socket(self.ack_timeout)
        sent, started = time.time(), time.monotonic()
        ack = self.socket.send(envelope, self.ack_timeout)
        delivery = Delivery(
            kind,
            payload,
            "socket",
            200 if ack is not None else "no ack",
            envelope_id=envelope_id,
            retry_num=retry_num,
            retry_reason=retry_reason,
            elapsed=time.monotonic() - started,
            sent=sent,
        )
        if ack is not None:
            delivery.body = json.dumps(ack)
            answer = ack.get("payload")
            delivery.response = answer if isinstance(answer, dict) and answer else None
        return delivery

    # -- what Slack does with the answer

    def _after(self, delivery: Delivery) -> Delivery:
        if not delivery.ok or not delivery.response:
            if delivery.ok and delivery.payload.get("type") == "view_submission":
                self.views.close(delivery.payload["view"]["id"])
            return delivery
        if delivery.kind == "slash_commands":
            self._show_command_answer(delivery)
        elif delivery.payload.get("type") == "view_submission":
            self._apply_view_answer(delivery)
        return delivery

    def _show_command_answer(self, delivery: Delivery) -> None:
        answer, payload = delivery.response or {}, delivery.payload
        if not answer.get("text") and not answer.get("blocks"):
            return
        errors = message_errors(answer.get("blocks"), answer.get("text"))
        if errors:
            delivery.problems += errors
            return
        message = {
            "text": answer.get("text") or "",
            "user": self.identity.bot_user_id,
            "bot_id": self.identity.bot_id,
        }
        if answer.get("blocks"):
            message["blocks"] = answer["blocks"]
        if answer.get("response_type") == "in_channel":
            self.workspace.post(payload["channel_id"], message)
        else:
            self.workspace.post_ephemeral(payload["channel_id"], payload["user_id"], message)

    def _apply_view_answer(self, delivery: Delivery) -> None:
        answer = delivery.response or {}
        view_id, user = delivery.payload["view"]["id"], delivery.payload["user"]["id"]
        action = answer.get("response_action")
        if action is None:
            self.views.close(view_id)
            return
        if action == "errors":
            inputs = {
                b["block_id"]
                for b in delivery.payload["view"]["blocks"]
                if b.get("type") == "input"
            }
            errors = answer.get("errors")
            if not isinstance(errors, dict) or not errors or set(errors) - inputs:
                delivery.problems.append(
                    f"errors must map input block_ids {sorted(inputs)} to messages: {errors!r}"
                )
            return
        if action == "clear":
            self.views.close(view_id, clear=True)
            return
        if action not in ("update", "push"):
            delivery.problems.append(f"unknown response_action {action!r}")
            return
        view = answer.get("view")
        problems = view_errors(view) if isinstance(view, dict) else ["view: is required"]
        if problems:
            delivery.problems += problems
            return
        try:
            if action == "update":
                self.views.update(view, view_id=view_id)
            else:
                self.views.push(None, view, user=user)
        except SlackError as exc:
            delivery.problems.append(exc.error)

    # -- what people do

    def slash_command(
        self,
        text: str,
        user: str,
        channel: str,
        command: str = "/feedback",
        *,
        retry_num: int = 0,
        retry_reason: str = "",
    ) -> Delivery:
        cid = self.workspace.channel_id(channel)
        payload = payloads.slash_command(
            self.workspace,
            text=text,
            user=user,
            channel=cid,
            command=command,
            response_url=self.new_response_url(cid, user),
            trigger_id=self.views.new_trigger(user),
        )
        return self._after(
            self._send("slash_commands", payload, retry_num=retry_num, retry_reason=retry_reason)
        )

    def click(
        self, channel: str, ts: str, action_id: str, user: str, *, value: str | None = None
    ) -> Delivery:
        """Click a button in a channel message, thread reply or (the user's own) ephemeral message."""
        cid = self.workspace.channel_id(channel)
        message, ephemeral = self.workspace.message(cid, ts), False
        if message is None:
            message, ephemeral = self.workspace.find_ephemeral(cid, ts), True
            if message is None or message["user_visible_to"] != user:
                raise LookupError(f"no message {ts} visible to {user} in {channel}")
        block, button = payloads.find_button(message.get("blocks"), action_id)
        payload = payloads.block_actions_message(
            self.workspace,
            channel=cid,
            message=message,
            ephemeral=ephemeral,
            user=user,
            action=payloads.action_entry(block, button, value),
            trigger_id=self.views.new_trigger(user),
            response_url=self.new_response_url(cid, user, ts),
        )
        return self._after(self._send("interactive", payload))

    def _click_view(self, view: dict, action_id: str, user: str, value: str | None) -> Delivery:
        block, button = payloads.find_button(view.get("blocks"), action_id)
        payload = payloads.block_actions_view(
            self.workspace,
            view=view,
            user=user,
            trigger_id=self.views.new_trigger(user),
            action=payloads.action_entry(block, button, value),
        )
        return self._after(self._send("interactive", payload))

    def click_in_view(
        self, view_id: str, action_id: str, user: str | None = None, *, value: str | None = None
    ) -> Delivery:
        view = self.views.get(view_id)
        if view is None:
            raise LookupError(f"no open view {view_id}")
        return self._click_view(view, action_id, user or self.views.owner(view_id), value)

    def click_in_home(self, user: str, action_id: str, *, value: str | None = None) -> Delivery:
        view = self.views.home(user)
        if view is None:
            raise LookupError(f"no Home tab published for {user}")
        return self._click_view(view, action_id, user, value)

    def submit_view(
        self, view_id: str, user: str | None = None, values: dict[str, dict[str, Any]] | None = None
    ) -> Delivery:
        view = self.views.get(view_id)
        if view is None or view["type"] != "modal":
            raise LookupError(f"no open modal {view_id}")
        user = user or self.views.owner(view_id)
        self.views.set_state(view_id, payloads.state_values(view, values or {}))
        payload = payloads.view_submission(
            self.workspace,
            view=self.views.get(view_id),
            user=user,
            trigger_id=self.views.new_trigger(user),
        )
        return self._after(self._send("interactive", payload))

    def open_app_home(self, user: str) -> Delivery:
        self.workspace.user(user)
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.workspace.dm_channel(user),
            "tab": "home",
            "event_ts": payloads.action_ts(),
        }
        home = self.views.home(user)
        if home:
            event["view"] = home
        return self._after(self._send("events_api", payloads.event_callback(self.workspace, event)))

    def redeliver(
        self,
        delivery: Delivery,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Delivery:
        """Send a delivery again. With retry_num: Slack's retry of the very same payload. Without: the person
        doing it again (a double click): same payload, fresh trigger_id and action_ts."""
        payload = copy.deepcopy(delivery.payload)
        if retry_num is not None:
            return self._after(
                self._send(delivery.kind, payload, retry_num=retry_num, retry_reason=retry_reason)
            )
        user = payload.get("user_id") or payload.get("user", {}).get("id")
        if "trigger_id" in payload:
            payload["trigger_id"] = self.views.new_trigger(user)
        for action in payload.get("actions", []):
            action["action_ts"] = payloads.action_ts()
        return self._after(self._send(delivery.kind, payload))
