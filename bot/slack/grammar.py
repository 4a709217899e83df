"""The /feedback command language (SPEC §5): text in, a typed Command or a Usage message out — no I/O."""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple, NoReturn, cast

from bot.slack.parsed import (
    ALL_TEAMS,
    CHART_KINDS,
    DEFAULT_PERIOD,
    FILTERS,
    MAX_PERIOD_DAYS,
    OUTCOMES,
    Ack,
    Assign,
    Chart,
    Command,
    Digest,
    Help,
    ListCases,
    ListFilter,
    Note,
    Period,
    Reopen,
    Resolve,
    Show,
    Stats,
    Usage,
)


class _Spec(NamedTuple):
    syntax: str
    example: str
    does: str
    who: str


SPECS: dict[str, _Spec] = {
    "help": _Spec("help", "help", "this list", "anyone"),
    "list": _Spec(
        "list [TEAM] [open|overdue|mine|all]",
        "list delivery overdue",
        "cases; by default the open ones of this channel's team",
        "anyone",
    ),
    "show": _Spec("show FB-n", "show FB-12", "a case with its timeline", "anyone"),
    "ack": _Spec(
        "ack FB-n", "ack FB-12", "acknowledge a case", "team members, supervisors, leaders"
    ),
    "assign": _Spec(
        "assign FB-n @user|me",
        "assign FB-12 me",
        "assign a case (pick the person from Slack's @ autocomplete)",
        "anyone for themselves; supervisors and leaders for others",
    ),
    "note": _Spec(
        "note FB-n TEXT",
        "note FB-12 called the customer back",
        "add a note to the timeline",
        "anyone",
    ),
    "resolve": _Spec(
        "resolve FB-n [cause=C] [outcome=O] [ACTION TEXT]",
        "resolve FB-12 cause=late_delivery outcome=fixed refunded the delivery fee",
        f"resolve a case; outcome is one of {', '.join(OUTCOMES)}, cause a complaint category or other; "
        "without action text it opens the resolve form",
        "supervisors of the team, leaders",
    ),
    "reopen": _Spec(
        "reopen FB-n REASON",
        "reopen FB-12 customer wrote again",
        "reopen a resolved case",
        "supervisors of the team, leaders",
    ),
    "digest": _Spec(
        "digest [TEAM]", "digest delivery", "the huddle digest now, shown only to you", "anyone"
    ),
    "chart": _Spec(
        "chart KIND [TEAM|all] [PERIOD]",
        "chart csat delivery 30d",
        f"a chart in the channel; KIND is one of {', '.join(CHART_KINDS)}; "
        "PERIOD like 7d or 12w, up to 730d (default 30d)",
        "supervisors of their own team, leaders",
    ),
    "stats": _Spec(
        "stats [TEAM|all] [PERIOD]",
        "stats all 90d",
        "TTA/TTR medians and p90, SLA compliance, open and overdue counts",
        "supervisors of their own team, leaders",
    ),
}
ALIASES = {"?": "help", "acknowledge": "ack"}
RESOLVE_OPTIONS = {"cause": "cause", "root_cause": "cause", "outcome": "outcome"}

_TOKEN = re.compile(r"\S+")
# The same forms as bot.cases.lifecycle.parse_ref (a test keeps them in agreement).
_REF = re.compile(r"(?:fb-|#)?(\d{1,18})", re.IGNORECASE)
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


def usage(command_name: str = "/feedback") -> str:
    """The full help text (mrkdwn), one line per subcommand with an example and who may use it."""
    lines = [
        f"*{command_name}* closes the loop on customer feedback. Case ids: `FB-12`, `#12` or `12`.",
        "",
    ]
    for name, spec in SPECS.items():
        example = "" if name == "help" else f" e.g. `{command_name} {spec.example}`"
        lines.append(f"• `{command_name} {spec.syntax}`: {spec.does}.{example} _({spec.who})_")
    return "\n".join(lines)


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > in one pass (so "&amp;lt;" stays "&lt;")."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _echo(token: str) -> str:
    # Quote the person's words back without letting them close the code span or mention anyone.
    shown = token if len(token) <= 40 else token[:39] + "…"
    return shown.replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


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
                    self._fail(f"Give one team, not both `{team}` and `{_echo(low)}`.")
                team = low
            else:
                self._fail(
                    f"`{_echo(word)}` is neither a team key nor one of {', '.join(FILTERS)}."
                )
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
                f"`{_echo(rest)}` is plain text, not a person: type @ and pick the person from "
                "Slack's autocomplete so it becomes a mention, or write `me`."
            )
        if len(_MENTION.findall(rest)) > 1:
            self._fail("A case has one assignee: mention one person.")
        self._fail(
            f"`{_echo(rest)}` is not a person: write `me`, or type @ and pick someone from Slack's autocomplete."
        )

    def _note(self) -> Command:
        case_id = self._case_id()
        text = self._rest(2)
        if not text:
            self._fail("Write the note after the case id.")
        return Note(case_id, unescape(text))

    def _resolve(self) -> Command:
        case_id = self._case_id()
        options: dict[str, str] = {}
        action: str | None = None
        for token in self.tokens[2:]:
            option = _OPTION.fullmatch(token.group())
            if option is None:
                action = unescape(self.text[token.start() :].strip())
                break
            key, value = option.group(1).lower(), unescape(option.group(2)).lower()
            field = RESOLVE_OPTIONS.get(key)
            if field is None:
                self._fail(
                    f"`{_echo(key)}=` is not an option of resolve; use `cause=` and `outcome=` "
                    "before the action text."
                )
            if not value:
                self._fail(
                    f"`{key}=` needs a value, e.g. `{key}="
                    + ("fixed" if field == "outcome" else "other")
                    + "`."
                )
            if field in options:
                self._fail(f"Give `{field}=` once.")
            options[field] = value
        return Resolve(
            case_id, cause=options.get("cause"), outcome=options.get("outcome"), action=action
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
            self._fail(f"`{_echo(words[0])}` is not a team key.")
        return Digest(words[0])

    def _chart(self) -> Command:
        words = self._words(1)
        if not words:
            self._fail(f"Say which chart: one of {_kinds()}.")
        kind = words[0].lower()
        if kind not in CHART_KINDS:
            close = difflib.get_close_matches(kind, CHART_KINDS, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            self._fail(f"`{_echo(words[0])}` is not a chart.{hint} Charts: {_kinds()}.")
        team, period = self._team_and_period(words[1:])
        return Chart(kind, team, period)

    def _stats(self) -> Command:
        team, period = self._team_and_period(self._words(1))
        return Stats(team, period)

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
                    f"`{_echo(word)}` is neither a team key, `all`, nor a period like 30d or 12w."
                )
        return team, period or DEFAULT_PERIOD

    def _period(self, amount: int, unit: str) -> Period:
        days = amount * 7 if unit == "w" else amount
        if not 1 <= days <= MAX_PERIOD_DAYS:
            self._fail(
                f"A period runs from 1d to {MAX_PERIOD_DAYS}d (2 years); `{amount}{unit}` is {days} days."
            )
        return Period(days, f"{amount}{unit}")

    def _case_id(self) -> int:
        if len(self.tokens) < 2:
            self._fail(f"`{self.name}` needs a case id.")
        word = self.tokens[1].group()
        match = _REF.fullmatch(word)
        if match is None:
            self._fail(f"`{_echo(word)}` is not a case id; write it like `FB-12`, `#12` or `12`.")
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
                f"`{self.name}` {what}; `{_echo(self.tokens[start].group())}` is one word too many."
            )

    def _fail(self, problem: str) -> NoReturn:
        raise _Bad(self._message(problem, self.name))

    def _message(self, problem: str, name: str) -> str:
        example = f" For example: `{self.cmd} {SPECS[name].example}`." if name in SPECS else ""
        return f"{problem}{example} `{self.cmd} help` lists every command."

    def _unknown(self, word: str) -> str:
        ref = _REF.fullmatch(word)
        if ref:
            return (
                f"Start with what to do with the case, e.g. `{self.cmd} show FB-{int(ref.group(1))}`. "
                f"`{self.cmd} help` lists every command."
            )
        close = difflib.get_close_matches(word.lower(), [*SPECS, *ALIASES], n=1)
        if close:
            name = ALIASES.get(close[0], close[0])
            return self._message(f"Unknown command `{_echo(word)}`. Did you mean `{name}`?", name)
        return (
            f"Unknown command `{_echo(word)}`. Try `{self.cmd} list` for the open cases; "
            f"`{self.cmd} help` lists every command."
        )


def _kinds() -> str:
    return ", ".join(f"`{k}`" for k in CHART_KINDS)
