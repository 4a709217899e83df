"""The words of the /feedback language every subcommand reads: ids, teams, periods, options, people, dates."""

from __future__ import annotations

import re
from typing import NoReturn

from bot.slack.parsed import DEFAULT_PERIOD, MAX_PERIOD_DAYS, Period
from bot.slack.usage import echo, with_example

# Options come before a command's free text; `root_cause=` is another name for `cause=`.
_OPTION_NAMES = {"root_cause": "cause"}
_OPTION_EXAMPLES = {"cause": "other", "outcome": "fixed", "action": "CA-3"}

TOKEN = re.compile(r"\S+")
# The same forms as bot.cases.lifecycle.parse_ref (a test keeps them in agreement).
REF = re.compile(r"(?:fb-|#)?(\d{1,18})", re.IGNORECASE)
# The same forms as bot.cases.action_model.parse_action_ref (a test keeps them in agreement).
ACTION_REF = re.compile(r"(?:ca-)?(\d{1,18})", re.IGNORECASE)
# Only an obvious non-date is refused here: the core reads dates (it knows the team's zone).
DATE = re.compile(r"\d{4}-", re.ASCII)
# Team keys as config.fields allows them: a lowercase letter first, so a number is never a team.
TEAM = re.compile(r"[a-z][a-z0-9_-]{0,63}", re.ASCII)
PERIOD = re.compile(r"(\d{1,6})([dw])", re.ASCII)
# With "escape channels, users and links" on, Slack sends a picked user as <@U123> or <@U123|name>.
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)=(.*)", re.DOTALL)
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


class Bad(Exception):
    """What was wrong, already worded as a Usage message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in one pass (so "&amp;lt;" stays "&lt;")."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


class Reader:
    """One line being parsed: its tokens and the readers of its pieces; subcommands live in subclasses."""

    def __init__(self, text: str, command_name: str):
        self.text = text
        self.cmd = command_name
        self.tokens = list(TOKEN.finditer(text))
        self.name = ""

    def _team_and_period(self, words: list[str]) -> tuple[str | None, Period]:
        team: str | None = None
        period: Period | None = None
        for word in words:
            low = word.lower()
            match = PERIOD.fullmatch(low)
            if match:
                if period is not None:
                    self._fail("Give one period.")
                period = self._period(int(match.group(1)), match.group(2))
            elif TEAM.fullmatch(low):
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
        while at < len(self.tokens) and (option := OPTION.fullmatch(self.tokens[at].group())):
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
        mention = MENTION.match(self.text, self.tokens[at].start()) if word else None
        if mention or word.lower() == "me":
            end = mention.end() if mention else self.tokens[at].end()
            if MENTION.match(text := self.text[end:].strip()):
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
        if not DATE.match(value):
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
        match = ACTION_REF.fullmatch(word)
        if match is None:
            self._fail(f"`{echo(word)}` is not an action id; write it like `CA-3` or `3`.")
        return int(match.group(1))

    def _case_id(self) -> int:
        if len(self.tokens) < 2:
            self._fail(f"`{self.name}` needs a case id.")
        word = self.tokens[1].group()
        match = REF.fullmatch(word)
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
        raise Bad(with_example(problem, self.name, self.cmd))
