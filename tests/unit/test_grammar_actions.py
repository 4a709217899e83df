"""The /feedback parser for corrective actions (SPEC §8): every form, every mistake, the help."""

from __future__ import annotations

import pytest

from bot.cases.action_model import parse_action_ref
from bot.errors import InvalidInput
from bot.slack.grammar import parse, usage
from bot.slack.parsed import Done, Drop, ListActions, Plan, Resolve, ShowAction, Usage

PLAN = "plan delivery cause=late_delivery due=2026-12-31"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # actions: `all` first means every team; a second `all` (or one after a team) is the filter
        ("actions", ListActions(None, "open")),
        ("actions open", ListActions(None, "open")),
        ("ACTIONS Overdue", ListActions(None, "overdue")),
        ("actions delivery", ListActions("delivery", "open")),
        ("actions delivery overdue", ListActions("delivery", "overdue")),
        ("actions overdue delivery", ListActions("delivery", "overdue")),
        ("actions all", ListActions("all", "open")),
        ("actions all all", ListActions("all", "all")),
        ("actions all overdue", ListActions("all", "overdue")),
        ("actions overdue all", ListActions("all", "overdue")),
        ("actions delivery all", ListActions("delivery", "all")),
        ("actions ca-west", ListActions("ca-west", "open")),  # a team key, not an action id
        # action ids
        ("action CA-3", ShowAction(3)),
        ("action ca-3", ShowAction(3)),
        ("action 3", ShowAction(3)),
        ("Action\nCA-007 ", ShowAction(7)),
        # plan: cause= and due= in either order before the owner; the date kept as written
        (
            f"{PLAN} <@U123ABC> add a Saturday courier",
            Plan("delivery", "late_delivery", "2026-12-31", "U123ABC", "add a Saturday courier"),
        ),
        (
            "PLAN Delivery due=2026-12-31T17:00+01:00 cause=Late_Delivery <@U123ABC|Jane Doe> "
            "split &amp; re-route\nthe Saturday run",
            Plan(
                "delivery",
                "late_delivery",
                "2026-12-31T17:00+01:00",
                "U123ABC",
                "split & re-route\nthe Saturday run",
            ),
        ),
        (
            "plan support root_cause=other due=2026-01-05 ME call &lt;VIP&gt; customers first",
            Plan("support", "other", "2026-01-05", "me", "call <VIP> customers first"),
        ),
        # a mention inside the text is text
        (
            f"{PLAN} me ask <@U0OTHER1> for the rota",
            Plan("delivery", "late_delivery", "2026-12-31", "me", "ask <@U0OTHER1> for the rota"),
        ),
        # done: live= is optional and comes before the text; a key=value inside the text is text
        ("done CA-3 second courier since Monday", Done(3, None, "second courier since Monday")),
        (
            "done 3 live=2026-06-01 courier &amp; rota changed",
            Done(3, "2026-06-01", "courier & rota changed"),
        ),
        (
            "done ca-3 live=2026-06-01T09:00:00+02:00 set rota=weekly",
            Done(3, "2026-06-01T09:00:00+02:00", "set rota=weekly"),
        ),
        # drop
        ("drop CA-3 the depot closes in May", Drop(3, "the depot closes in May")),
        ("drop 3 cost &gt; benefit", Drop(3, "cost > benefit")),
        # resolve attaches to an open action with action=CA-n
        ("resolve FB-12 action=CA-3", Resolve(12, attach=3)),
        (
            "resolve 12 outcome=fixed action=ca-3 cause=late_delivery re-sent the parcel",
            Resolve(12, "late_delivery", "fixed", "re-sent the parcel", attach=3),
        ),
        ("resolve 12 action=4 x", Resolve(12, None, None, "x", attach=4)),
    ],
)
def test_every_action_form(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says", "example"),
    [
        # actions
        ("actions open overdue", "Give one filter, not both `open` and `overdue`.", "actions"),
        ("actions delivery support", "not both `delivery` and `support`", "actions"),
        (
            "actions all delivery",
            "Give one team (or `all`), not both `all` and `delivery`",
            "actions",
        ),
        ("actions mine", "`mine` is neither a team key, `all`, `open` nor `overdue`", "actions"),
        ("actions CA-3", "`/feedback action CA-3` shows one action", "actions"),
        # action ids
        (
            "action",
            "`action` needs an action id like `CA-3`; `/feedback actions` lists them",
            "action",
        ),
        ("action FB-3", "`FB-3` is not an action id; write it like `CA-3` or `3`.", "action"),
        ("action #3", "`#3` is not an action id", "action"),
        ("action CA-", "`CA-` is not an action id", "action"),
        ("action 3 4", "`action` takes only an action id; `4` is one word too many.", "action"),
        ("done", "`done` needs an action id", "done"),
        ("drop CA3x why", "`CA3x` is not an action id", "drop"),
        # plan: team
        ("plan", "No team given: name the one team the action belongs to", "plan"),
        ("plan all cause=other due=2026-12-31 me x", "`all` is not a team key", "plan"),
        ("plan cause=other due=2026-12-31 me x", "`cause=other` is not a team key", "plan"),
        # plan: options
        ("plan delivery due=2026-12-31 me x", "Give the cause it addresses with `cause=`", "plan"),
        (
            "plan delivery cause=other me x",
            "Give the due date with `due=` before the owner",
            "plan",
        ),
        (
            "plan delivery cause=other me due=2026-12-31 x",
            "Give the due date with `due=` before the owner",
            "plan",
        ),
        (
            "plan delivery cause= due=2026-12-31 me x",
            "`cause=` needs a value, e.g. `cause=other`",
            "plan",
        ),
        (
            "plan delivery cause=other due= me x",
            "`due=` needs a value, e.g. `due=2026-12-31`",
            "plan",
        ),
        ("plan delivery cause=a root_cause=b due=2026-12-31 me x", "Give `cause=` once.", "plan"),
        (
            "plan delivery cause=other owner=me due=2026-12-31 me x",
            "`owner=` is not an option of plan; use `cause=` and `due=` before the owner.",
            "plan",
        ),
        (
            "plan delivery cause=other due=tomorrow me x",
            "`tomorrow` is not a date: write `YYYY-MM-DD` or an ISO-8601 time with its offset, "
            "e.g. `due=2026-12-31`",
            "plan",
        ),
        ("plan delivery cause=other due=31/12/2026 me x", "`31/12/2026` is not a date", "plan"),
        # plan: owner and text
        (
            PLAN,
            "No owner given: after `cause=` and `due=` write the owner, `me` or someone",
            "plan",
        ),
        (
            f"{PLAN} @jane add a courier",
            "`@jane` is plain text, not a person: type @ and pick the person from Slack's "
            "autocomplete",
            "plan",
        ),
        (f"{PLAN} jane add a courier", "`jane` is not a person", "plan"),
        (f"{PLAN} <!channel> add", "`&lt;!channel&gt;` is not a person", "plan"),
        (f"{PLAN} <@U1ABC> <@U2DEF|bo> add a courier", "An action has one owner", "plan"),
        (f"{PLAN} <@U1ABC|Jane Doe>", "Say what will change, after the owner.", "plan"),
        (f"{PLAN} me   \n", "Say what will change, after the owner.", "plan"),
        # done
        ("done CA-3", "Say what was changed, after the action id", "done"),
        ("done CA-3 live=2026-06-01", "Say what was changed", "done"),
        ("done CA-3 live=2026-06-01 live=2026-06-02 x", "Give `live=` once.", "done"),
        ("done CA-3 live= x", "`live=` needs a value, e.g. `live=2026-12-31`.", "done"),
        ("done CA-3 live=now x", "`now` is not a date", "done"),
        (
            "done CA-3 at=2026-06-01 x",
            "`at=` is not an option of done; only `live=DATE` comes before the text.",
            "done",
        ),
        # drop
        ("drop CA-3", "Say why the action is dropped, after the action id.", "drop"),
        ("drop CA-3 \n ", "Say why the action is dropped", "drop"),
        # resolve's action=
        ("resolve 12 action=FB-3 x", "`FB-3` is not an action id", "resolve"),
        ("resolve 12 action= x", "`action=` needs a value, e.g. `action=CA-3`.", "resolve"),
        ("resolve 12 action=CA-3 action=CA-4", "Give `action=` once.", "resolve"),
        (
            "resolve 12 reason=late x",
            "`reason=` is not an option of resolve; use `cause=` and `outcome=` "
            "(and `action=CA-n`)",
            "resolve",
        ),
    ],
)
def test_every_action_mistake_says_what_to_type(text: str, says: str, example: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage)
    assert says in result.message
    assert f"For example: `/feedback {example} " in result.message
    assert result.message.endswith("`/feedback help` lists every command.")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("acton CA-3", "Did you mean `action`? For example: `/feedback action CA-3`."),
        ("actoins", "Did you mean `actions`? For example: `/feedback actions "),
        ("pln delivery", "Did you mean `plan`? For example: `/feedback plan delivery cause="),
        ("dne CA-3 x", "Did you mean `done`? For example: `/feedback done CA-3 "),
        ("dorp CA-3 x", "Did you mean `drop`? For example: `/feedback drop CA-3 "),
        ("CA-3", "Start with what to do with the action, e.g. `/feedback action CA-3`."),
        ("ca-03", "e.g. `/feedback action CA-3`"),
        ("12", "Start with what to do with the case, e.g. `/feedback show FB-12`."),
    ],
)
def test_unknown_words_know_the_action_commands(text: str, says: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage) and says in result.message


def test_help_lists_the_action_commands_with_who_may_use_them() -> None:
    bullets = [line for line in usage().splitlines() if line.startswith("• ")]
    by_name = {line.split()[2].strip("`:"): line for line in bullets}
    expected = {
        "actions": ("actions [TEAM|all] [open|overdue|all]", "_(anyone)_"),
        "action": ("action CA-n", "_(anyone)_"),
        "plan": (
            "plan TEAM cause=C due=DATE @owner|me TEXT",
            "_(supervisors of their own team, leaders)_",
        ),
        "done": ("done CA-n [live=DATE] TEXT", "_(the action's owner, supervisors, leaders)_"),
        "drop": ("drop CA-n REASON", "_(supervisors, leaders)_"),
    }
    for name, (syntax, who) in expected.items():
        line = by_name[name]
        assert line.startswith(f"• `/feedback {syntax}`: ") and line.endswith(who)
        assert f"e.g. `/feedback {name} " in line
    assert "`actions all`: every team's open ones" in by_name["actions"]
    assert "[action=CA-n]" in by_name["resolve"] and "action=CA-n attaches" in by_name["resolve"]
    assert "`CA-3` or `3`" in usage()


@pytest.mark.parametrize(
    "ref", ["CA-3", "ca-3", "Ca-03", "3", "0", "CA-", "CA3", "#3", "FB-3", "CA-3x", "-3", "three"]
)
def test_action_ids_agree_with_the_core(ref: str) -> None:
    try:
        expected: object = ShowAction(parse_action_ref(ref))
    except InvalidInput:
        expected = Usage
    got = parse(f"action {ref}")
    assert got == expected if isinstance(expected, ShowAction) else isinstance(got, Usage)
