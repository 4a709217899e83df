"""The case subcommands of /feedback: help, list, show, ack, assign, note, resolve, reopen."""

from __future__ import annotations

from bot.cases.permissions import Action
from bot.clock import utcnow
from bot.errors import InvalidInput
from bot.slack import grammar, parsed
from bot.slack.blocks.lists import case_detail, case_list
from bot.slack.blocks.notice import notice
from bot.slack.ids import CaseMeta
from bot.slack.resolve_form import resolve_view
from handlers.commands.context import SOURCE, Context, Reply, all_teams


def show_help(ctx: Context, _cmd: parsed.Help) -> Reply:
    return notice(grammar.usage(ctx.svc.command))


def show_usage(_ctx: Context, cmd: parsed.Usage) -> Reply:
    return notice(f":warning: {cmd.message}")


def list_cases(ctx: Context, cmd: parsed.ListCases) -> Reply:
    team = cmd.team or ctx.channel_team()
    result = ctx.svc.overview.list_cases(team=team, filter=cmd.filter, user=ctx.user)
    where = ctx.svc.overview.team(team).name if team else all_teams(ctx)
    title = {
        "open": f"Open cases of {where}",
        "overdue": f"Overdue cases of {where}",
        "mine": f"Your cases in {where}",
        "all": f"All cases of {where}",
    }[cmd.filter]
    empty = {
        "open": f"No open cases for {where}. :tada:",
        "overdue": f"Nothing overdue for {where}. :tada:",
        "mine": f"No cases of {where} are assigned to you.",
        "all": f"No cases for {where} yet.",
    }[cmd.filter]
    return case_list(
        result,
        title=title,
        teams=ctx.svc.config.teams,
        now=utcnow(),
        empty=empty,
        command=ctx.svc.command,
    )


def show(ctx: Context, cmd: parsed.Show) -> Reply:
    detail = ctx.svc.cases.get_for(cmd.case_id, ctx.user, Action.SEE)
    ctx.svc.audit.case_shown(ctx.user, detail.case)
    return case_detail(detail, ctx.svc.config.teams[detail.case.team], now=utcnow())


def ack(ctx: Context, cmd: parsed.Ack) -> Reply:
    change = ctx.svc.cases.acknowledge(cmd.case_id, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":eyes: {change.case.ref} acknowledged.")


def assign(ctx: Context, cmd: parsed.Assign) -> Reply:
    assignee = ctx.user if cmd.user == "me" else cmd.user
    change = ctx.svc.cases.assign(cmd.case_id, assignee, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":bust_in_silhouette: {change.case.ref} assigned to <@{assignee}>.")


def note(ctx: Context, cmd: parsed.Note) -> Reply:
    change = ctx.svc.cases.note(cmd.case_id, cmd.text, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":memo: Note added to {change.case.ref}.")


def resolve(ctx: Context, cmd: parsed.Resolve) -> Reply:
    if cmd.action is None or cmd.cause is None or cmd.outcome is None:
        # Anything missing is asked for in the modal, with what was typed already filled in.
        detail = ctx.svc.cases.get_for(cmd.case_id, ctx.user, Action.RESOLVE)
        if not ctx.trigger_id:
            raise InvalidInput(
                "Write the whole resolution, e.g. `resolve FB-12 cause=late_delivery outcome=fixed Refunded`."
            )
        meta = CaseMeta(case_id=detail.case.id, channel=ctx.channel)
        view = resolve_view(ctx.svc, detail.case, meta, cause=cmd.cause, outcome=cmd.outcome)
        # An empty answer, sent when this listener returns (process_before_response): after views.open,
        # so Slack's 3 s cover that call too; a trigger_id must be used within 3 s anyway.
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)
        return None
    change = ctx.svc.cases.resolve_in_one_line(
        cmd.case_id,
        outcome=cmd.outcome,
        root_cause=cmd.cause,
        text=cmd.action,
        attach=cmd.attach,
        actor=ctx.user,
        source=SOURCE,
    )
    attached = change.event.details.get("corrective")
    also = f", attached to {attached}" if attached else ""
    return ctx.changed(f":white_check_mark: {change.case.ref} resolved{also}.")


def reopen(ctx: Context, cmd: parsed.Reopen) -> Reply:
    change = ctx.svc.cases.reopen(cmd.case_id, cmd.reason, actor=ctx.user, source=SOURCE)
    return ctx.changed(f":arrows_counterclockwise: {change.case.ref} reopened.")
