"""What a person in Slack does to the app: commands, clicks, picks in modals, submissions, opening App Home."""

from __future__ import annotations

import copy
from typing import Any

from slack_emulator import payloads
from slack_emulator.driver import Delivery, Driver


class People(Driver):
    """Mixed into SlackEmulator: each method acts as one person would and returns Slack's delivery."""

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

    def select_in_view(
        self,
        view_id: str,
        action_id: str,
        value: Any,
        user: str | None = None,
        *,
        block_id: str | None = None,
        values: dict[str, dict[str, Any]] | None = None,
    ) -> Delivery:
        """Pick `value` (an option value, user id, date…) in a modal's select or picker that dispatches:
        an input with dispatch_action, or an actions block / section accessory. `values` are what the
        person has typed elsewhere in the modal so far: Slack sends them in view.state with the action."""
        view = self.views.get(view_id)
        if view is None or view["type"] != "modal":
            raise LookupError(f"no open modal {view_id}")
        user = user or self.views.owner(view_id)
        block, element = payloads.find_dispatcher(view.get("blocks"), action_id, block_id)
        action = payloads.choice_entry(block, element, value, self.workspace.users)
        typed = dict(values or {})
        if block.get("type") == "input":
            typed[block["block_id"]] = {action_id: value}
        state = payloads.state_values(view, typed, users=self.workspace.users, submit=False)
        self.views.set_state(view_id, state)
        payload = payloads.block_actions_view(
            self.workspace,
            view=self.views.get(view_id),
            user=user,
            trigger_id=self.views.new_trigger(user),
            action=action,
        )
        return self._after(self._send("interactive", payload))

    def submit_view(
        self, view_id: str, user: str | None = None, values: dict[str, dict[str, Any]] | None = None
    ) -> Delivery:
        view = self.views.get(view_id)
        if view is None or view["type"] != "modal":
            raise LookupError(f"no open modal {view_id}")
        user = user or self.views.owner(view_id)
        state = payloads.state_values(view, values or {}, users=self.workspace.users)
        self.views.set_state(view_id, state)
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
