"""The learning figures of `/feedback stats` (SPEC §9): the `by=FIELD` table, categories against causes."""

from __future__ import annotations

from typing import Any

from bot.reports.breakdowns import Breakdown, Group
from bot.reports.quality import CategoryAgreement
from bot.slack.blocks.case import context, section
from bot.slack.blocks.fit import fit_message
from bot.slack.blocks.table import MISSING, table_line
from bot.slack.blocks.text import clip, escape, fmt_number, one_line, pack_lines, plural, truncate
from config.teams import Team

Block = dict[str, Any]

GROUP_WIDTH = 24  # longer values are cut: the table must stay narrow enough not to wrap
CATEGORY_LINES = 15  # categories listed one per line; a taxonomy this long is summed up after
WEEKLY_DISAGREEMENTS = 3  # the weekly line is one line: the stats answer lists all five
_FENCE = "```"
_NAMES = 100  # the scope line lists team names up to this many characters


def breakdown_message(
    b: Breakdown,
    teams: dict[str, Team],
    *,
    period_label: str,
    all_teams: bool,
) -> dict[str, Any]:
    """`stats [TEAM|all] [PERIOD] by=FIELD`: one row per group (at most 8 and "other"), then all of them."""
    who = scope_label(b.teams, teams, all_teams)
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Stats by {b.by}", "emoji": True},
        },
        context(f"{clip(one_line(period_label), 200)} · {escape(who)}"),
    ]
    if b.total.responses == 0 and b.total.cases == 0:
        blocks.append(section("No responses in the period."))
    else:
        blocks.append(section(_table(b)))
        blocks.append(
            context(
                f"CSAT, NPS and CES with their n; `{MISSING} (n)`: fewer than {b.min_responses} "
                "responses, too few for a rate. Negative: by each team's limits. Cases: feedback cases "
                f"opened in the period from the group's responses. At most 8 {b.by} values, the rest as other."
            )
        )
    groups = plural(sum(1 for g in b.groups if not g.is_other), f"{b.by} value")
    text = f"Stats by {b.by} for {who}, {period_label}: {b.total.responses} responses, {groups}"
    return fit_message(escape(one_line(text)), blocks)


def scope_label(keys: tuple[str, ...], teams: dict[str, Team], all_teams: bool) -> str:
    if all_teams:
        return "all teams"
    names = ", ".join(teams[k].name if k in teams else k for k in keys)
    return truncate(one_line(names), _NAMES) or "no teams"


def _table(b: Breakdown) -> str:
    head = (b.by.capitalize(), "Responses", "CSAT (n)", "NPS (n)", "CES (n)", "Negative", "Cases")
    rows = [_cells(_label(g), g) for g in b.groups]
    total = _cells("All", b.total)
    widths = [max(len(c) for c in column) for column in zip(head, *rows, total)]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines = [table_line(head, widths), *(table_line(r, widths) for r in rows), rule]
    return f"{_FENCE}\n" + "\n".join([*lines, table_line(total, widths)]) + f"\n{_FENCE}"


def _label(g: Group) -> str:
    if g.is_other:
        return f"other ({plural(g.folded, 'value')})"
    # A backtick would end the code block; the value is the customer's data, not ours.
    return (
        "(none)" if g.value is None else truncate(one_line(g.value), GROUP_WIDTH).replace("`", "'")
    )


def _cells(label: str, g: Group) -> tuple[str, ...]:
    return (
        label,
        str(g.responses),
        _rate(g.csat, g.csat_n, 1, " %"),
        _rate(g.nps, g.nps_n, 0),
        _rate(g.ces, g.ces_n, 1),
        str(g.negative),
        str(g.cases),
    )


def _rate(value: float | None, n: int, decimals: int, unit: str = "") -> str:
    if n == 0:
        return MISSING
    if value is None:
        return f"{MISSING} ({n})"  # under the minimum: the n, and no rate
    return f"{fmt_number(value, decimals)}{unit} ({n})"


# -- the keyword categories against the causes chosen ------------------------------------------------


def agreement_blocks(a: CategoryAgreement) -> list[Block]:
    """`stats … categories`: overall and per category, the most frequent disagreements, the blind spot."""
    if a.resolved == 0:
        lines = [
            "*Keyword categories vs causes chosen*",
            "No case resolved in the period had a keyword category.",
        ]
    else:
        lines = [
            f"*Keyword categories vs causes chosen*: {fmt_number(a.percent or 0, 0)} % agreed "
            f"({a.agreed} of {plural(a.resolved, 'resolved case')} with a category)"
        ]
        for fit in a.by_category[:CATEGORY_LINES]:
            lines.append(
                f"• `{_name(fit.category)}` {fmt_number(fit.percent, 0)} % ({fit.agreed} of {fit.resolved})"
            )
        if len(a.by_category) > CATEGORY_LINES:
            more = len(a.by_category) - CATEGORY_LINES
            lines.append(f"…and {more} more {'category' if more == 1 else 'categories'}")
        if a.disagreements:
            lines.append("*Most frequent disagreements* (category → cause):")
            lines.extend(
                f"• `{_name(p.category)}` → `{_name(p.cause)}`: {p.count}" for p in a.disagreements
            )
    if a.uncategorised:
        # The taxonomy's blind spot: complaints its keywords did not recognise.
        lines.append(f"{plural(a.uncategorised, 'more resolved case')} matched no keyword.")
    blocks = [section("\n".join(group)) for group in pack_lines(lines)]
    blocks.append(
        context(
            "Over the feedback cases standing resolved at the end of the period (their latest resolution, "
            "duplicates left out): how often the category its keywords gave was the cause the supervisor chose."
        )
    )
    return blocks


def agreement_line(a: CategoryAgreement) -> str | None:
    """The weekly summary's one line; None when no resolved case had a keyword category."""
    if a.resolved == 0:
        return None
    line = (
        f":label: Keyword categories matched the cause chosen in *{fmt_number(a.percent or 0, 0)} %* "
        f"of resolved cases ({a.agreed} of {a.resolved})"
    )
    if a.disagreements:
        top = " · ".join(
            f"`{_name(p.category)}` → `{_name(p.cause)}`: {p.count}"
            for p in a.disagreements[:WEEKLY_DISAGREEMENTS]
        )
        line += f"; most frequent disagreements: {top}"
    return line


def _name(key: str) -> str:
    # Category keys come from the YAML; cut and escaped all the same, as they sit inside inline code.
    return escape(truncate(key, 40).replace("`", "'"))
