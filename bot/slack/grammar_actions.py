"""The corrective-action subcommands of /feedback (SPEC §8): actions, action, plan, done, drop."""

from __future__ import annotations

from typing import cast

from bot.slack.grammar_pieces import ACTION_REF, TEAM, Reader, unescape
from bot.slack.parsed import (
    ACTION_FILTERS,
    ALL_TEAMS,
    FILTERS,
    ActionFilter,
    Command,
    Done,
    Drop,
    ListActions,
    Plan,
    ShowAction,
)
from bot.slack.usage import echo


class ActionCommands(Reader):
    def _actions(self) -> Command:
        team: str | None = None
        chosen: ActionFilter | None = None
        for word in self._words(1):
            low = word.lower()
            # `all` names every team unless a team is already given (then it is the filter).
            if low == ALL_TEAMS and team is None:
                team = ALL_TEAMS
            elif low in ACTION_FILTERS:
                if chosen is not None:
                    self._fail(f"Give one filter, not both `{chosen}` and `{low}`.")
                chosen = cast(ActionFilter, low)
            # A list's `mine` or an action id here is a slip, not a team of that name.
            elif TEAM.fullmatch(low) and low not in FILTERS and not ACTION_REF.fullmatch(low):
                if team is not None:
                    self._fail(f"Give one team (or `all`), not both `{team}` and `{low}`.")
                team = low
            else:
                self._fail(
                    f"`{echo(word)}` is neither a team key, `all`, `open` nor `overdue`; "
                    f"`{self.cmd} action CA-3` shows one action."
                )
        return ListActions(team, chosen or "open")

    def _action(self) -> Command:
        action_id = self._action_id()
        self._no_more(2, "takes only an action id")
        return ShowAction(action_id)

    def _plan(self) -> Command:
        team = self.tokens[1].group().lower() if len(self.tokens) > 1 else ""
        if not TEAM.fullmatch(team) or team == ALL_TEAMS:
            shown = f"`{echo(team)}` is not a team key" if team else "No team given"
            self._fail(f"{shown}: name the one team the action belongs to, right after `plan`.")
        options, at = self._options(("cause", "due"), "use `cause=` and `due=` before the owner")
        for field, what in (("cause", "the cause it addresses"), ("due", "the due date")):
            if field not in options:
                self._fail(f"Give {what} with `{field}=` before the owner.")
        due = self._date(options["due"], "due")
        owner, text = self._owner(at)
        if not text:
            self._fail("Say what will change, after the owner.")
        return Plan(team, options["cause"].lower(), due, owner, unescape(text))

    def _done(self) -> Command:
        action_id = self._action_id()
        options, at = self._options(("live",), "only `live=DATE` comes before the text")
        live = self._date(options["live"], "live") if "live" in options else None
        text = self._rest(at)
        if not text:
            self._fail("Say what was changed, after the action id (and `live=DATE`, if any).")
        return Done(action_id, live, unescape(text))

    def _drop(self) -> Command:
        action_id = self._action_id()
        reason = self._rest(2)
        if not reason:
            self._fail("Say why the action is dropped, after the action id.")
        return Drop(action_id, unescape(reason))
