"""Slack acting towards the app: signed HTTP requests or Socket Mode envelopes, and what Slack does with the answer."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

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
    """Slack's side of each request: sending it over HTTP or Socket Mode, and acting on the answer."""

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
