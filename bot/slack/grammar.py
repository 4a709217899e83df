"""The /feedback language (SPEC §5, §8): text in, a typed Command or a Usage message out; no I/O."""

from __future__ import annotations

import difflib
import re
from typing import NoReturn, cast

from bot.slack.parsed import (
    ACTION_FILTERS,
    ALL_TEAMS,
    CHART_KINDS,
    DEFAULT_PERIOD,
    FILTERS,
    MAX_PERIOD_DAYS,
    Ack,
    ActionFilter,
    Assign,
    Chart,
    Command,
    Digest,
    Done,
    Drop,
    Help,
    ListActions,
    ListCases,
    ListFilter,
    Note,
    Period,
    Plan,
    Reopen,
    Resolve,
    Show,
    ShowAction,
    Stats,
    Usage,
)
from bot.slack.usage import ALIASES, SPECS, echo, unknown, usage, with_example

__all__ = ["SPECS", "parse", "unescape", "usage"]

# Options come before a command's free text; `root_cause=` is another name for `cause=`.
_OPTION_NAMES = {"root_cause": "cause"}
_OPTION_EXAMPLES = {"cause": "other", "outcome": "fixed", "action": "CA-3"}
_CHARTS = ", ".join(f"`{k}`" for k in CHART_KINDS)

_TOKEN = re.compile(r"\S+")
# The same forms as bot.cases.lifecycle.parse_ref (a test keeps them in agreement).
_REF = re.compile(r"(?:fb-|#)?(\d{1,18})", re.IGNORECASE)
# The same forms as bot.cases.action_model.parse_action_ref (a test keeps them in agreement).
_ACTION_REF = re.compile(r"(?:ca-)?(\d{1,18})", re.IGNORECASE)
# Only an obvious non-date is refused here: the core reads dates (it knows the team's zone).
_DATE = re.compile(r"\d{4}-", re.ASCII)
# Team keys as config.fields allows them: a lowercase letter first, so a number is never a team.
_TEAM = re.compile(r"[a-z][a-z0-9_-]{0,63}", re.ASCII)
_PERIOD = re.compile(r"(\d{1,6})([dw])", re.ASCII)
# With "escape channels, users and links" on, Slack sends a picked user as <@U123> or <@U123|name>.
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
_OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)=(.*)", re.DOTALL)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


class _Bad(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse(text: str, command_name: str = "/feedback") -> Command:
    """Never raises: anything that is not a command becomes Usage saying what to type."""
    try:
        return _Parser(text or "", command_name).parse()
    except _Bad as bad:
        return Usage(bad.message)


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in one pass (so "&amp;lt;" stays "&lt;")."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


class _Parser:
    def __init__(self, text: str, command_name: str):
        self.text = text
        self.cmd = command_name
        self.tokens = list(_TOKEN.finditer(text))
        self.name = ""

    def parse(self) -> Command:
        if not self.tokens:
            return Help()
        word = self.tokens[0].group().lower()
        self.name = ALIASES.get(word, word)
        handler = getattr(self, f"_{self.name}", None) if self.name in SPECS else None
        if handler is None:
            raise _Bad(self._unknown(self.tokens[0].group()))
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
            elif _TEAM.fullmatch(low):
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
        mention = _MENTION.fullmatch(rest)
        if mention:
            return Assign(case_id, mention.group(1))
        if rest.startswith("@"):
            self._fail(
                f"`{echo(rest)}` is plain text, not a person: type @ and pick the person from "
                "Slack's autocomplete so it becomes a mention, or write `me`."
            )
        if len(_MENTION.findall(rest)) > 1:
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
        if not _TEAM.fullmatch(words[0]):
            self._fail(f"`{echo(words[0])}` is not a team key.")
        return Digest(words[0])

    def _chart(self) -> Command:
        words = self._words(1)
        if not words:
            self._fail(f"Say which chart: one of {_CHARTS}.")
        kind = words[0].lower()
        if kind not in CHART_KINDS:
            close = difflib.get_close_matches(kind, CHART_KINDS, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            self._fail(f"`{echo(words[0])}` is not a chart.{hint} Charts: {_CHARTS}.")
        team, period = self._team_and_period(words[1:])
        return Chart(kind, team, period)

    def _stats(self) -> Command:
        team, period = self._team_and_period(self._words(1))
        return Stats(team, period)

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
            elif _TEAM.fullmatch(low) and low not in FILTERS and not _ACTION_REF.fullmatch(low):
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
        if not _TEAM.fullmatch(team) or team == ALL_TEAMS:
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

    # -- pieces ----------------------------------------------------------------------------------------

    def _team_and_period(self, words: list[str]) -> tuple[str | None, Period]:
        team: str | None = None
        period: Period | None = None
        for word in words:
            low = word.lower()
            match = _PERIOD.fullmatch(low)
            if match:
                if period is not None:
                    self._fail("Give one period.")
                period = self._period(int(match.group(1)), match.group(2))
            elif _TEAM.fullmatch(low):
                if team is not None:
                    self._fail(f"Give one team (or `all`), not both `{team}` and `{low}`.")
                team = low
            else:
                self._fail(
                    f"`{echo(word)}` is neither a team key, `all`, nor a period like 30d or 12w."
                )
        return team, period or DEFAULT_PERIOD

    def _period(self, amount: int, unit: str) -> Period:
        days = amount * 7 if unit == "w" else amount
        if not 1 <= days <= MAX_PERIOD_DAYS:
            self._fail(
                f"A period runs from 1d to {MAX_PERIOD_DAYS}d (2 years); `{amount}{unit}` is {days} days."
            )
        return Period(days, f"{amount}{unit}")

    def _options(self, known: tuple[str, ...], hint: str) -> tuple[dict[str, str], int]:
        """The `key=value` words from the third on, unescaped, and where the free text starts."""
        options: dict[str, str] = {}
        at = 2
        while at < len(self.tokens) and (option := _OPTION.fullmatch(self.tokens[at].group())):
            key, value = option.group(1).lower(), unescape(option.group(2))
            field = _OPTION_NAMES.get(key, key)
            if field not in known:
                self._fail(f"`{echo(key)}=` is not an option of {self.name}; {hint}.")
            if not value:
                example = _OPTION_EXAMPLES.get(field, "2026-12-31")
                self._fail(f"`{key}=` needs a value, e.g. `{key}={example}`.")
            if field in options:
                self._fail(f"Give `{field}=` once.")
            options[field] = value
            at += 1
        return options, at

    def _owner(self, at: int) -> tuple[str, str]:
        """The owner at token `at` (`me`, or a mention that may hold spaces) and the text after."""
        word = self.tokens[at].group() if at < len(self.tokens) else ""
        mention = _MENTION.match(self.text, self.tokens[at].start()) if word else None
        if mention or word.lower() == "me":
            end = mention.end() if mention else self.tokens[at].end()
            if _MENTION.match(text := self.text[end:].strip()):
                self._fail(
                    "An action has one owner: mention one person, then say what will change."
                )
            return (mention.group(1) if mention else "me"), text
        if word.startswith("@"):
            self._fail(
                f"`{echo(word)}` is plain text, not a person: type @ and pick the person from "
                "Slack's autocomplete so it becomes a mention, or write `me`."
            )
        shown = f"`{echo(word)}` is not a person" if word else "No owner given"
        self._fail(
            f"{shown}: after `cause=` and `due=` write the owner, `me` or someone picked from "
            "Slack's @ autocomplete, then what will change."
        )

    def _date(self, value: str, key: str) -> str:
        if not _DATE.match(value):
            self._fail(
                f"`{echo(value)}` is not a date: write `YYYY-MM-DD` or an ISO-8601 time with its "
                f"offset, e.g. `{key}=2026-12-31` or `{key}=2026-12-31T17:00+01:00`."
            )
        return value

    def _action_id(self) -> int:
        if len(self.tokens) < 2:
            self._fail(
                f"`{self.name}` needs an action id like `CA-3`; `{self.cmd} actions` lists them."
            )
        return self._action_ref(self.tokens[1].group())

    def _action_ref(self, word: str) -> int:
        match = _ACTION_REF.fullmatch(word)
        if match is None:
            self._fail(f"`{echo(word)}` is not an action id; write it like `CA-3` or `3`.")
        return int(match.group(1))

    def _case_id(self) -> int:
        if len(self.tokens) < 2:
            self._fail(f"`{self.name}` needs a case id.")
        word = self.tokens[1].group()
        match = _REF.fullmatch(word)
        if match is None:
            self._fail(f"`{echo(word)}` is not a case id; write it like `FB-12`, `#12` or `12`.")
        return int(match.group(1))

    def _words(self, start: int) -> list[str]:
        return [t.group() for t in self.tokens[start:]]

    def _rest(self, start: int) -> str:
        """Everything from token `start` on, as typed (newlines kept)."""
        if len(self.tokens) <= start:
            return ""
        return self.text[self.tokens[start].start() :].strip()

    def _no_more(self, start: int, what: str) -> None:
        if len(self.tokens) > start:
            self._fail(
                f"`{self.name}` {what}; `{echo(self.tokens[start].group())}` is one word too many."
            )

    def _fail(self, problem: str) -> NoReturn:
        raise _Bad(with_example(problem, self.name, self.cmd))

    def _unknown(self, word: str) -> str:
        case, action = _REF.fullmatch(word), _ACTION_REF.fullmatch(word)
        if case or (action and word.lower().startswith("ca-")):
            ref = f"show FB-{int(case.group(1))}" if case else f"action CA-{int(action.group(1))}"
            what = "case" if case else "action"
            return (
                f"Start with what to do with the {what}, e.g. `{self.cmd} {ref}`. "
                f"`{self.cmd} help` lists every command."
            )
        return unknown(word, self.cmd)
