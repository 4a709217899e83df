"""The /feedback parser: every form of SPEC §5, every mistake, and that no text makes it raise."""

from __future__ import annotations

import pytest

from bot.cases import checks
from bot.cases import lifecycle as core
from bot.errors import InvalidInput
from bot.slack.grammar import SPECS, parse, unescape, usage
from bot.slack.parsed import (
    CHART_KINDS,
    OUTCOMES,
    Ack,
    Assign,
    Chart,
    CustomerView,
    Digest,
    Done,
    Drop,
    Help,
    ListActions,
    ListCases,
    ListSilences,
    Note,
    Period,
    Plan,
    Reopen,
    Resolve,
    Show,
    ShowAction,
    Silence,
    Stats,
    Unsilence,
    Usage,
)

D30 = Period(30, "30d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # help
        ("", Help()),
        ("   \n\t ", Help()),
        ("help", Help()),
        ("HELP", Help()),
        ("?", Help()),
        ("help resolve", Help()),
        # list: team and filter in either order, both optional
        ("list", ListCases(None, "open", explicit_filter=False)),
        ("list delivery", ListCases("delivery", "open", explicit_filter=False)),
        ("list open", ListCases(None, "open", explicit_filter=True)),
        ("list overdue delivery", ListCases("delivery", "overdue", explicit_filter=True)),
        ("list delivery mine", ListCases("delivery", "mine", explicit_filter=True)),
        ("LIST  All\n", ListCases(None, "all", explicit_filter=True)),
        ("list Support OVERDUE", ListCases("support", "overdue", explicit_filter=True)),
        ("list night-shift_2", ListCases("night-shift_2", "open", explicit_filter=False)),
        # case ids in every form of SPEC §2
        ("show FB-12", Show(12)),
        ("show fb-12", Show(12)),
        ("show #12", Show(12)),
        ("show 12", Show(12)),
        ("Show  FB-007 ", Show(7)),
        ("ack FB-3", Ack(3)),
        ("acknowledge #3", Ack(3)),
        ("ACK\nfb-3", Ack(3)),
        # assign: escaped mentions as Slack sends them, or me
        ("assign FB-12 <@U123ABC>", Assign(12, "U123ABC")),
        ("assign FB-12 <@U123ABC|jane.doe>", Assign(12, "U123ABC")),
        ("assign 12 <@W0ENTERPRISE|Jane Doe>", Assign(12, "W0ENTERPRISE")),
        ("assign #12 me", Assign(12, "me")),
        ("assign 12 ME", Assign(12, "me")),
        # note: text as typed, Slack's escapes undone, newlines kept
        ("note FB-12 called the customer back", Note(12, "called the customer back")),
        ("note 12   line one\nline two  ", Note(12, "line one\nline two")),
        ("note 12 refund &lt; 10 &amp;&amp; fee &gt; 2", Note(12, "refund < 10 && fee > 2")),
        ("note 12 <@U0AGENT1> will call", Note(12, "<@U0AGENT1> will call")),
        # resolve: options in any order before the text; no text opens the modal
        ("resolve FB-12", Resolve(12, None, None, None)),
        ("resolve FB-12 cause=late_delivery", Resolve(12, "late_delivery", None, None)),
        (
            "resolve 12 outcome=fixed cause=other Re-sent the parcel",
            Resolve(12, "other", "fixed", "Re-sent the parcel"),
        ),
        (
            "resolve 12 root_cause=app_error outcome=Workaround told them to reinstall",
            Resolve(12, "app_error", "workaround", "told them to reinstall"),
        ),
        (
            "resolve 12 Refunded &amp; apologised\nsee ticket 4",
            Resolve(12, None, None, "Refunded & apologised\nsee ticket 4"),
        ),
        # a key=value after the action text has started is part of the text
        (
            "resolve 12 outcome=fixed set priority=high in the CRM",
            Resolve(12, None, "fixed", "set priority=high in the CRM"),
        ),
        (
            "resolve 12 https://crm.example/t?id=4 updated",
            Resolve(12, None, None, "https://crm.example/t?id=4 updated"),
        ),
        # reopen
        ("reopen FB-12 customer wrote again", Reopen(12, "customer wrote again")),
        ("reopen 12 parcel &lt;still&gt; missing", Reopen(12, "parcel <still> missing")),
        # digest
        ("digest", Digest(None)),
        ("digest delivery", Digest("delivery")),
        ("DIGEST Delivery", Digest("delivery")),
        # chart: kind first, then team/all and period in either order
        ("chart csat", Chart("csat", None, D30)),
        ("chart NPS delivery", Chart("nps", "delivery", D30)),
        ("chart ces all 7d", Chart("ces", "all", Period(7, "7d"))),
        ("chart pareto 12w support", Chart("pareto", "support", Period(84, "12w"))),
        ("chart volume 730d", Chart("volume", None, Period(730, "730d"))),
        ("chart ttr 104w", Chart("ttr", None, Period(728, "104w"))),
        ("chart sla 90D", Chart("sla", None, Period(90, "90d"))),
        # stats
        ("stats", Stats(None, D30)),
        ("stats all", Stats("all", D30)),
        ("stats 90d all", Stats("all", Period(90, "90d"))),
        ("stats delivery 1d", Stats("delivery", Period(1, "1d"))),
    ],
)
def test_every_form(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        # unknown subcommands get the closest one and its example
        (
            "resovle 12",
            "Unknown command `resovle`. Did you mean `resolve`? For example: `/feedback resolve FB-12",
        ),
        ("lsit", "Did you mean `list`? For example: `/feedback list delivery overdue`"),
        ("acknowlege 4", "Did you mean `ack`?"),
        ("stat all", "Did you mean `stats`?"),
        ("banana", "Unknown command `banana`. Try `/feedback list`"),
        ("FB-12", "Start with what to do with the case, e.g. `/feedback show FB-12`"),
        ("#7", "`/feedback show FB-7`"),
        # case ids
        ("show", "`show` needs a case id. For example: `/feedback show FB-12`"),
        ("ack FB12x", "`FB12x` is not a case id; write it like `FB-12`, `#12` or `12`."),
        ("ack FB-", "`FB-` is not a case id"),
        ("note twelve called back", "`twelve` is not a case id"),
        ("resolve -3", "`-3` is not a case id"),
        ("ack 12 13", "`ack` takes only a case id; `13` is one word too many."),
        ("show 12 please", "`please` is one word too many"),
        # list
        ("list open overdue", "Give one filter, not both `open` and `overdue`."),
        ("list delivery support", "Give one team, not both `delivery` and `support`."),
        ("list 12", "`12` is neither a team key nor one of open, overdue, mine, all."),
        ("list deli&amp;very", "`deli&amp;very` is neither a team key"),
        # assign
        (
            "assign 12",
            "Say who takes the case: `me`, or pick the person from Slack's @ autocomplete.",
        ),
        (
            "assign 12 @jane",
            "`@jane` is plain text, not a person: type @ and pick the person from Slack's autocomplete",
        ),
        ("assign 12 jane", "`jane` is not a person"),
        ("assign 12 <@U1ABC> <@U2DEF>", "A case has one assignee"),
        (
            "assign 12 <!channel>",
            "`&lt;!channel&gt;` is not a person",
        ),  # echoed without pinging anyone
        # free text
        (
            "note 12",
            "Write the note after the case id. For example: `/feedback note FB-12 called the customer back`",
        ),
        ("note 12   \n ", "Write the note after the case id."),
        ("reopen FB-12", "Say why the case is reopened"),
        # resolve options
        (
            "resolve 12 reason=late sent a voucher",
            "`reason=` is not an option of resolve; use `cause=` and `outcome=`",
        ),
        ("resolve 12 cause= sent a voucher", "`cause=` needs a value, e.g. `cause=other`."),
        ("resolve 12 outcome=", "`outcome=` needs a value, e.g. `outcome=fixed`."),
        ("resolve 12 cause=other root_cause=app_error x", "Give `cause=` once."),
        # digest
        ("digest all", "The digest is per team"),
        ("digest delivery support", "Give at most one team."),
        ("digest 42", "`42` is not a team key."),
        # chart and stats
        (
            "chart",
            "Say which chart: one of `csat`, `nps`, `ces`, `volume`, `ttr`, `pareto`, `sla`.",
        ),
        ("chart csta", "`csta` is not a chart. Did you mean `csat`? Charts: `csat`,"),
        (
            "chart pie",
            "`pie` is not a chart. Charts: `csat`, `nps`, `ces`, `volume`, `ttr`, `pareto`, `sla`.",
        ),
        ("chart csat 0d", "A period runs from 1d to 730d (2 years); `0d` is 0 days."),
        ("stats 731d", "`731d` is 731 days."),
        ("stats 105w", "`105w` is 735 days."),
        ("stats 3m", "`3m` is neither a team key, `all`, nor a period like 30d or 12w."),
        ("stats 7d 30d", "Give one period."),
        ("stats delivery all", "Give one team (or `all`), not both `delivery` and `all`."),
        ("chart csat 1234567d", "`1234567d` is neither a team key"),
    ],
)
def test_every_mistake_says_what_to_type(text: str, says: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage)
    assert says in result.message
    assert result.message.endswith("`/feedback help` lists every command.")


def test_messages_use_the_renamed_command() -> None:
    result = parse("resovle 1", command_name="/fb")
    assert isinstance(result, Usage)
    assert "`/fb resolve FB-12" in result.message and result.message.endswith(
        "`/fb help` lists every command."
    )
    assert "`/fb list [TEAM] [open|overdue|mine|all]`" in usage("/fb") and "/feedback" not in usage(
        "/fb"
    )


def test_usage_lists_every_subcommand_with_an_example_and_who() -> None:
    text = usage()
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 20  # the 11 rows of SPEC §5's table, the 5 of §8's and the 4 of §9's
    for name in (
        "list",
        "show",
        "ack",
        "assign",
        "note",
        "resolve",
        "reopen",
        "digest",
        "chart",
        "stats",
        "actions",
        "action",
        "plan",
        "done",
        "drop",
        "silence",
        "silences",
        "unsilence",
        "customer",
    ):
        line = next(line for line in lines if line.startswith(f"• `/feedback {name} "))
        assert f"e.g. `/feedback {name} " in line and line.endswith(")_")
    assert "_(supervisors of the team, leaders)_" in next(
        line for line in lines if "`/feedback resolve" in line
    )
    assert all(kind in text for kind in CHART_KINDS) and all(o in text for o in OUTCOMES)
    assert "<" not in text and ">" not in text  # nothing Slack would read as a mention or link


@pytest.mark.parametrize("name", [n for n in SPECS if n != "help"])
def test_each_spec_example_parses_to_its_command(name: str) -> None:
    kinds = {
        "list": ListCases,
        "show": Show,
        "ack": Ack,
        "assign": Assign,
        "note": Note,
        "resolve": Resolve,
        "reopen": Reopen,
        "digest": Digest,
        "chart": Chart,
        "stats": Stats,
        "actions": ListActions,
        "action": ShowAction,
        "plan": Plan,
        "done": Done,
        "drop": Drop,
        "silence": Silence,
        "silences": ListSilences,
        "unsilence": Unsilence,
        "customer": CustomerView,
    }
    assert isinstance(parse(SPECS[name].example), kinds[name])


def test_outcomes_match_the_core() -> None:
    assert OUTCOMES == checks.OUTCOMES


@pytest.mark.parametrize(
    "ref",
    [
        "FB-12",
        "fb-12",
        "#12",
        "12",
        "FB-007",
        "Fb-1",
        "#0",
        "FB12x",
        "FB-",
        "-3",
        "twelve",
        "1.5",
        "#FB-2",
    ],
)
def test_case_ids_agree_with_the_core(ref: str) -> None:
    try:
        expected: object = Show(core.parse_ref(ref))
    except InvalidInput:
        expected = Usage
    got = parse(f"show {ref}")
    assert got == expected if isinstance(expected, Show) else isinstance(got, Usage)


def test_unescape_is_one_pass() -> None:
    assert unescape("&amp;lt; &lt;b&gt; &amp;amp; &quot;") == "&lt; <b> &amp; &quot;"
