"""The /feedback language (SPEC §5, §8): text in, a typed Command or a Usage message out; no I/O."""

from __future__ import annotations

import difflib
from typing import cast

from bot.slack.grammar_actions import ActionCommands
from bot.slack.grammar_pieces import ACTION_REF, MENTION, OPTION, REF, TEAM, Bad, unescape
from bot.slack.grammar_signals import SignalCommands
from bot.slack.parsed import (
    ALL_TEAMS,
    BY_CHARTS,
    BY_FIELDS,
    CHART_KINDS,
    FILTERS,
    Ack,
    Assign,
    Chart,
    Command,
    Digest,
    Help,
    ListCases,
    ListFilter,
    Note,
    Reopen,
    Resolve,
    Show,
    Stats,
    Usage,
)
from bot.slack.usage import ALIASES, SPECS, echo, unknown, usage

__all__ = ["SPECS", "parse", "unescape", "usage"]

_CHARTS = ", ".join(f"`{k}`" for k in CHART_KINDS)


def parse(text: str, command_name: str = "/feedback") -> Command:
    """Never raises: anything that is not a command becomes Usage saying what to type."""
    try:
        return _Parser(text or "", command_name).parse()
    except Bad as bad:
        return Usage(bad.message)


class _Parser(ActionCommands, SignalCommands):
    """The case and report subcommands; the others come from the mixins."""

    def parse(self) -> Command:
        if not self.tokens:
            return Help()
        word = self.tokens[0].group().lower()
        self.name = ALIASES.get(word, word)
        handler = getattr(self, f"_{self.name}", None) if self.name in SPECS else None
        if handler is None:
            raise Bad(self._unknown(self.tokens[0].group()))
        return handler()

    # -- subcommands ---------------------------------------------------------------------------------

    def _help(self) -> Command:
        return Help()

    def _list(self) -> Command:
        team: str | None = None
        chosen: ListFilter | None = None
        for word in self._words(1):
            low = word.lower()
            if low in FILTERS:
                if chosen is not None:
                    self._fail(f"Give one filter, not both `{chosen}` and `{low}`.")
                chosen = cast(ListFilter, low)
            elif TEAM.fullmatch(low):
                if team is not None:
                    self._fail(f"Give one team, not both `{team}` and `{echo(low)}`.")
                team = low
            else:
                self._fail(f"`{echo(word)}` is neither a team key nor one of {', '.join(FILTERS)}.")
        return ListCases(team, chosen or "open", explicit_filter=chosen is not None)

    def _show(self) -> Command:
        case_id = self._case_id()
        self._no_more(2, "takes only a case id")
        return Show(case_id)

    def _ack(self) -> Command:
        case_id = self._case_id()
        self._no_more(2, "takes only a case id")
        return Ack(case_id)

    def _assign(self) -> Command:
        case_id = self._case_id()
        rest = self._rest(2)
        if not rest:
            self._fail(
                "Say who takes the case: `me`, or pick the person from Slack's @ autocomplete."
            )
        if rest.lower() == "me":
            return Assign(case_id, "me")
        mention = MENTION.fullmatch(rest)
        if mention:
            return Assign(case_id, mention.group(1))
        if rest.startswith("@"):
            self._fail(
                f"`{echo(rest)}` is plain text, not a person: type @ and pick the person from "
                "Slack's autocomplete so it becomes a mention, or write `me`."
            )
        if len(MENTION.findall(rest)) > 1:
            self._fail("A case has one assignee: mention one person.")
        self._fail(
            f"`{echo(rest)}` is not a person: write `me`, or type @ and pick someone from Slack's autocomplete."
        )

    def _note(self) -> Command:
        case_id = self._case_id()
        text = self._rest(2)
        if not text:
            self._fail("Write the note after the case id.")
        return Note(case_id, unescape(text))

    def _resolve(self) -> Command:
        case_id = self._case_id()
        hint = "use `cause=` and `outcome=` (and `action=CA-n`) before the action text"
        options, at = self._options(("cause", "outcome", "action"), hint)
        attach = options.get("action")
        return Resolve(
            case_id,
            cause=options["cause"].lower() if "cause" in options else None,
            outcome=options["outcome"].lower() if "outcome" in options else None,
            action=unescape(self._rest(at)) or None,
            attach=None if attach is None else self._action_ref(attach),
        )

    def _reopen(self) -> Command:
        case_id = self._case_id()
        reason = self._rest(2)
        if not reason:
            self._fail("Say why the case is reopened, after the case id.")
        return Reopen(case_id, unescape(reason))

    def _digest(self) -> Command:
        words = [w.lower() for w in self._words(1)]
        if len(words) > 1:
            self._fail("Give at most one team.")
        if not words:
            return Digest(None)
        if words[0] == ALL_TEAMS:
            self._fail("The digest is per team: name one team, or none for this channel's team.")
        if not TEAM.fullmatch(words[0]):
            self._fail(f"`{echo(words[0])}` is not a team key.")
        return Digest(words[0])

    def _chart(self) -> Command:
        words, by = self._by(self._words(1))
        if not words:
            self._fail(f"Say which chart: one of {_CHARTS}.")
        kind = words[0].lower()
        if kind not in CHART_KINDS:
            close = difflib.get_close_matches(kind, CHART_KINDS, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            self._fail(f"`{echo(words[0])}` is not a chart.{hint} Charts: {_CHARTS}.")
        if by is not None and kind not in BY_CHARTS:
            kinds = ", ".join(f"`{k}`" for k in BY_CHARTS)
            self._fail(f"A `{kind}` chart has no `by=`; breakdowns are drawn for {kinds}.")
        team, period = self._team_and_period(words[1:])
        return Chart(kind, team, period, by)

    def _stats(self) -> Command:
        words, by = self._by(self._words(1))
        categories = [w for w in words if w.lower() == "categories"]
        if categories and by is not None:
            self._fail("Give `by=` or `categories`, not both.")
        team, period = self._team_and_period([w for w in words if w.lower() != "categories"])
        return Stats(team, period, by, bool(categories))

    def _by(self, words: list[str]) -> tuple[list[str], str | None]:
        """The words without a `by=FIELD` among them, and the field."""
        fields = ", ".join(f"`{f}`" for f in BY_FIELDS)
        by: str | None = None
        rest: list[str] = []
        for word in words:
            option = OPTION.fullmatch(word)
            if option is None:
                rest.append(word)
                continue
            key, value = option.group(1).lower(), option.group(2).lower()
            if key != "by":
                self._fail(f"`{echo(key)}=` is not an option of {self.name}; `by=` is ({fields}).")
            if by is not None:
                self._fail("Give `by=` once.")
            if value not in BY_FIELDS:
                close = difflib.get_close_matches(value, BY_FIELDS, n=1)
                hint = f" Did you mean `by={close[0]}`?" if close else ""
                self._fail(
                    f"`by={echo(value)}` is not a field to break down by.{hint} Fields: {fields}."
                )
            by = value
        return rest, by

    def _unknown(self, word: str) -> str:
        case, action = REF.fullmatch(word), ACTION_REF.fullmatch(word)
        if case or (action and word.lower().startswith("ca-")):
            ref = f"show FB-{int(case.group(1))}" if case else f"action CA-{int(action.group(1))}"
            what = "case" if case else "action"
            return (
                f"Start with what to do with the {what}, e.g. `{self.cmd} {ref}`. "
                f"`{self.cmd} help` lists every command."
            )
        return unknown(word, self.cmd)
