"""The /feedback help table (SPEC §5, §8) and the Usage messages that point people to it."""

from __future__ import annotations

import difflib
from typing import NamedTuple

from bot.slack.parsed import BY_CHARTS, BY_FIELDS, CHART_KINDS, OUTCOMES


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
        "resolve FB-n [cause=C] [outcome=O] [action=CA-n] [ACTION TEXT]",
        "resolve FB-12 cause=late_delivery outcome=fixed refunded the delivery fee",
        f"resolve a case; outcome is one of {', '.join(OUTCOMES)}, cause a complaint category or other; "
        "action=CA-n attaches the case to that open corrective action; "
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
        "chart KIND [TEAM|all] [PERIOD] [by=FIELD]",
        "chart csat delivery 30d",
        f"a chart in the channel; KIND is one of {', '.join(CHART_KINDS)}; "
        "PERIOD like 7d or 12w, up to 730d (default 30d); "
        f"{'/'.join(BY_CHARTS)} take by={'|'.join(BY_FIELDS)}: one line per group",
        "supervisors of their own team, leaders",
    ),
    "stats": _Spec(
        "stats [TEAM|all] [PERIOD] [by=FIELD|categories]",
        "stats all 90d",
        "TTA/TTR medians and p90, SLA compliance, open and overdue counts, reopen rate; "
        f"by={'|'.join(BY_FIELDS)}: the scores per group; "
        "categories: how often the keyword category matched the cause supervisors chose",
        "supervisors of their own team, leaders",
    ),
    "actions": _Spec(
        "actions [TEAM|all] [open|overdue|all]",
        "actions delivery overdue",
        "corrective actions; by default the open ones of this channel's team. "
        "`all` first means every team (`actions all`: every team's open ones; "
        "`actions all all`: every team's, in every state)",
        "anyone",
    ),
    "action": _Spec(
        "action CA-n",
        "action CA-3",
        "a corrective action with its timeline and verification",
        "anyone",
    ),
    "plan": _Spec(
        "plan TEAM cause=C due=DATE @owner|me TEXT",
        "plan delivery cause=late_delivery due=2026-12-31 me add a Saturday courier",
        "plan a corrective action not born from a case; DATE is YYYY-MM-DD or an ISO-8601 time "
        "with its offset; pick the owner from Slack's @ autocomplete",
        "supervisors of their own team, leaders",
    ),
    "done": _Spec(
        "done CA-n [live=DATE] TEXT",
        "done CA-3 live=2026-06-01 second courier on Saturdays since June",
        "the change is live (now, or at live=DATE); starts its verification",
        "the action's owner, supervisors, leaders",
    ),
    "drop": _Spec(
        "drop CA-n REASON",
        "drop CA-3 the depot closes in May",
        "abandon a planned or done corrective action",
        "supervisors, leaders",
    ),
    "silence": _Spec(
        "silence TEAM RULE|all DURATION REASON",
        "silence delivery csat 4h carrier outage, tracked in INC-12",
        "stop a team's alert rules from opening cases for up to 7d (breaches are still recorded; "
        "escalations go on); RULE is a metric (csat, nps, ces, cases, complaints), "
        "complaints:CATEGORY or spc:METRIC",
        "supervisors of the team, leaders",
    ),
    "silences": _Spec(
        "silences [TEAM|all]", "silences delivery", "the silences in force", "anyone"
    ),
    "unsilence": _Spec(
        "unsilence S-n", "unsilence S-3", "end a silence now", "supervisors of the team, leaders"
    ),
    "customer": _Spec(
        "customer ID",
        "customer C-1042",
        "one customer's responses (masked) and cases of the last 365 days, with repeats",
        "supervisors (their teams), leaders",
    ),
}

ALIASES = {"?": "help", "acknowledge": "ack"}


def usage(command_name: str = "/feedback") -> str:
    """The full help text (mrkdwn), one line per subcommand with an example and who may use it."""
    lines = [
        f"*{command_name}* closes the loop on customer feedback. Case ids: `FB-12`, `#12` or `12`; "
        "corrective action ids: `CA-3` or `3`; silences: `S-3`.",
        "",
    ]
    for name, spec in SPECS.items():
        example = "" if name == "help" else f" e.g. `{command_name} {spec.example}`"
        lines.append(f"• `{command_name} {spec.syntax}`: {spec.does}.{example} _({spec.who})_")
    return "\n".join(lines)


def echo(token: str) -> str:
    """The person's words quoted back, unable to close the code span or mention anyone."""
    shown = token if len(token) <= 40 else token[:39] + "…"
    return shown.replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def with_example(problem: str, name: str, command_name: str) -> str:
    """A Usage message: what was wrong, the subcommand's example, and where the full list is."""
    example = SPECS[name].example if name in SPECS else ""
    shown = f" For example: `{command_name} {example}`." if example else ""
    return f"{problem}{shown} `{command_name} help` lists every command."


def unknown(word: str, command_name: str) -> str:
    """An unknown first word: the closest subcommand with its example, else where to start."""
    close = difflib.get_close_matches(word.lower(), [*SPECS, *ALIASES], n=1)
    if close:
        name = ALIASES.get(close[0], close[0])
        problem = f"Unknown command `{echo(word)}`. Did you mean `{name}`?"
        return with_example(problem, name, command_name)
    return (
        f"Unknown command `{echo(word)}`. Try `{command_name} list` for the open cases; "
        f"`{command_name} help` lists every command."
    )
