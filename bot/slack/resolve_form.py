"""The resolve modal with what the core knows of the chosen cause: its playbook, the fixes verified for it,
and the team's open actions a case may attach to (for the button, the command and a change of cause)."""

from __future__ import annotations

from typing import Any

from bot.cases.model import CaseRecord
from bot.slack.app import SlackServices
from bot.slack.blocks.modals import resolve_modal
from bot.slack.ids import CaseMeta


def resolve_view(
    svc: SlackServices,
    case: CaseRecord,
    meta: CaseMeta,
    *,
    cause: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    causes = [*svc.config.categories, "other"]
    # The keyword category is the likeliest cause: preselected, so its playbook and fixes show at once.
    cause = cause or (case.summary or {}).get("category") or (case.summary or {}).get("cause")
    cause = cause if cause in causes else None
    category = svc.config.categories.get(cause) if cause else None
    actions = svc.cases.actions
    return resolve_modal(
        case,
        causes=causes,
        meta=meta,
        cause=cause,
        outcome=outcome,
        playbook=list(category.playbook) if category else [],
        suggestions=actions.suggestions(cause) if cause else [],
        open_actions=actions.open_for(case.team, cause),
    )
