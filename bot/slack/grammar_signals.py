"""The signal and customer subcommands of /feedback (SPEC §9): silence, silences, unsilence, customer."""

from __future__ import annotations

import re

from bot.slack.grammar_pieces import TEAM, Reader, unescape
from bot.slack.parsed import (
    ALL_TEAMS,
    MAX_SILENCE,
    Command,
    CustomerView,
    ListSilences,
    Silence,
    Unsilence,
)
from bot.slack.usage import echo
from config.durations import parse_duration

# The same forms as the core's silence refs: S-3 or 3.
SILENCE_REF = re.compile(r"(?:s-)?(\d{1,18})", re.IGNORECASE)
# `all`, a metric, `complaints:late_delivery`, `spc:csat`: the core checks it names rules of the team.
RULE = re.compile(r"[a-z][a-z0-9_-]*(?::[a-z0-9_-]+){0,2}", re.ASCII)
# Slack links an e-mail address or phone number it recognises: <mailto:a@b.com|a@b.com>.
LINK = re.compile(r"<(?:mailto|tel):[^|>]*\|([^>]*)>")
CUSTOMER_LIMIT = 200  # feedback.customer is VARCHAR(200)


class SignalCommands(Reader):
    def _silence(self) -> Command:
        words = self._words(1)
        if len(words) < 3:
            self._fail(
                "Say the team, which alerts (`all`, `csat`, `complaints:late_delivery`, `spc:csat`…), "
                "how long (up to 7d) and why."
            )
        team, rule, duration = (w.lower() for w in words[:3])
        if team == ALL_TEAMS or not TEAM.fullmatch(team):
            self._fail(f"`{echo(words[0])}` is not a team key: a silence is for one team.")
        if not RULE.fullmatch(rule):
            self._fail(
                f"`{echo(words[1])}` names no alert rule: write `all`, a metric like `csat`, "
                "`complaints:CATEGORY` or `spc:METRIC`."
            )
        try:
            length = parse_duration(duration)
        except ValueError:
            self._fail(f"`{echo(words[2])}` is not a duration: write it like `90m`, `4h` or `2d`.")
        if length > MAX_SILENCE:
            self._fail(f"A silence lasts at most 7d; `{echo(words[2])}` is longer.")
        reason = self._rest(4)
        if not reason:
            self._fail("Say why the alerts are silenced, after the duration.")
        return Silence(team, rule, length, unescape(reason))

    def _silences(self) -> Command:
        words = [w.lower() for w in self._words(1)]
        if len(words) > 1:
            self._fail("Give at most one team (or `all`).")
        if words and not TEAM.fullmatch(words[0]):
            self._fail(f"`{echo(words[0])}` is not a team key.")
        return ListSilences(words[0] if words else None)

    def _unsilence(self) -> Command:
        if len(self.tokens) < 2:
            self._fail(
                f"`unsilence` needs a silence id like `S-3`; `{self.cmd} silences` lists them."
            )
        word = self.tokens[1].group()
        match = SILENCE_REF.fullmatch(word)
        if match is None:
            self._fail(f"`{echo(word)}` is not a silence id; write it like `S-3` or `3`.")
        self._no_more(2, "takes only a silence id")
        return Unsilence(int(match.group(1)))

    def _customer(self) -> Command:
        customer = unescape(LINK.sub(lambda m: m.group(1), self._rest(1))).strip()
        if not customer:
            self._fail("Say which customer: the id your survey tool sends, e.g. `C-1042`.")
        if len(customer) > CUSTOMER_LIMIT:
            self._fail(f"A customer id has at most {CUSTOMER_LIMIT} characters.")
        return CustomerView(customer)
