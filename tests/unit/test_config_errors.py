"""The YAML configuration: every mistake gets its own exact line naming file, key path and problem."""

from __future__ import annotations

import pytest

from tests.unit.config_cases import DELETE, SOURCE, problems, spec_with, team

# --- every check, with its exact line ---------------------------------------------------------------------

CHANNEL_HELP = (
    "channel ids look like C0123ABCD (in Slack, open the channel's details: "
    "the Channel ID is at the bottom of the About tab)"
)
USER_HELP = "user ids look like U0123ABCD (in Slack, open the person's profile, click ⋮ More, then Copy member ID)"
KEY_RULE = (
    "use lowercase letters, digits, - and _, starting with a letter (it is typed in Slack commands)"
)
CSAT_FIRES = "an alert fires when CSAT (the % of 4-5 scores, 0-100) falls below it"
WINDOW = {"window": "1h"}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # durations
        (
            "teams.delivery.thresholds[2].window",
            "24x",
            'teams.delivery.thresholds[2].window: "24x" is not a duration (use 30m, 4h, 2d, 1w)',
        ),
        (
            "teams.delivery.sla.ack",
            15,
            'teams.delivery.sla.ack: "15" is not a duration (use 30m, 4h, 2d, 1w)',
        ),
        (
            "defaults.sla.resolve",
            ["2d"],
            "defaults.sla.resolve: should be a duration (use 30m, 4h, 2d, 1w), but is a list",
        ),
        (
            "defaults.sla",
            {"ack": "3d"},
            "defaults.sla: ack (3d) is longer than resolve (2d); "
            "the acknowledge deadline cannot come after the resolve deadline",
        ),
        # crons
        (
            "teams.delivery.huddle",
            "0 9 * *",
            'teams.delivery.huddle: "0 9 * *" has 4 fields; a cron needs 5 '
            '(minute hour day month weekday), e.g. "0 9 * * mon-fri"',
        ),
        (
            "defaults.huddle",
            "0 9 * * mon-fry",
            'defaults.huddle: "0 9 * * mon-fry": weekday "fry" is not a number 0-7 '
            "(0 and 7 are Sunday) or a name mon-sun",
        ),
        (
            "weekly_summary",
            "61 9 * * mon",
            'weekly_summary: "61 9 * * mon": minute 61 is out of range 0-59',
        ),
        (
            "teams.delivery.huddle",
            930,
            "teams.delivery.huddle: should be a cron expression in quotes such as "
            '"0 9 * * mon-fri", but is a number (930)',
        ),
        # time zones
        (
            "teams.delivery.timezone",
            "Paris",
            'teams.delivery.timezone: "Paris" is not an IANA time zone (did you mean '
            "Europe/Paris?); use a name such as Europe/Paris or America/New_York",
        ),
        (
            "teams.delivery.timezone",
            "america/new_york",
            'teams.delivery.timezone: "america/new_york" is not an IANA time '
            "zone (did you mean America/New_York?); use a name such as Europe/Paris or America/New_York",
        ),
        (
            "defaults.timezone",
            "CEST",
            'defaults.timezone: "CEST" is not an IANA time zone; '
            "use a name such as Europe/Paris or America/New_York",
        ),
        # thresholds
        (
            "teams.delivery.thresholds[0].metric",
            "csta",
            'teams.delivery.thresholds[0].metric: "csta" is not one of '
            "csat, nps, ces, cases, complaints (did you mean csat?)",
        ),
        (
            "teams.delivery.thresholds[0]",
            {"metric": "csat", "above": 80, **WINDOW},
            f"teams.delivery.thresholds[0].above: csat thresholds use below, not above: {CSAT_FIRES}",
        ),
        (
            "teams.delivery.thresholds[0]",
            {"metric": "csat", "below": 80, "above": 90, **WINDOW},
            f"teams.delivery.thresholds[0]: gives both below and above; a csat threshold takes only below ({CSAT_FIRES})",
        ),
        (
            "teams.delivery.thresholds[3]",
            {"metric": "cases", **WINDOW},
            "teams.delivery.thresholds[3]: needs above: "
            "a cases alert fires when more cases than this open within the window",
        ),
        (
            "teams.delivery.thresholds[2]",
            {"metric": "ces", "below": 3, **WINDOW},
            "teams.delivery.thresholds[2].below: "
            "ces thresholds use above, not below: an alert fires when the mean CES score (1-7) rises above it",
        ),
        (
            "teams.delivery.thresholds[0].below",
            101,
            "teams.delivery.thresholds[0].below: must be between 0 and 100 for csat, not 101",
        ),
        (
            "teams.delivery.thresholds[1].below",
            -101,
            "teams.delivery.thresholds[1].below: must be between -100 and 100 for nps, not -101",
        ),
        (
            "teams.delivery.thresholds[2].above",
            0.5,
            "teams.delivery.thresholds[2].above: must be between 1 and 7 for ces, not 0.5",
        ),
        (
            "teams.delivery.thresholds[3].above",
            -1,
            "teams.delivery.thresholds[3].above: must be 0 or more for cases, not -1",
        ),
        (
            "teams.delivery.thresholds[0].below",
            "80%",
            'teams.delivery.thresholds[0].below: should be a number, but is text ("80%")',
        ),
        (
            "teams.delivery.thresholds[4].category",
            DELETE,
            "teams.delivery.thresholds[4].category: is missing; a complaints "
            "threshold counts one category (configured: late_delivery, rude_staff, app_error)",
        ),
        (
            "teams.delivery.thresholds[4].category",
            "late",
            'teams.delivery.thresholds[4].category: "late" is not a '
            "configured category (did you mean late_delivery?)",
        ),
        (
            "teams.delivery.thresholds[4].category",
            "billing",
            'teams.delivery.thresholds[4].category: "billing" is not a '
            "configured category; configured categories: late_delivery, rude_staff, app_error",
        ),
        (
            "teams.delivery.thresholds[3].category",
            "late_delivery",
            "teams.delivery.thresholds[3].category: only "
            "complaints thresholds take a category; remove it, or use metric: complaints",
        ),
        (
            "teams.delivery.thresholds[0].min_responses",
            0,
            "teams.delivery.thresholds[0].min_responses: must be 1 or more, "
            "not 0 (a rule fires only once its window holds this many responses)",
        ),
        (
            "teams.delivery.thresholds[0].window",
            DELETE,
            "teams.delivery.thresholds[0].window: is missing; "
            "say over which period the metric is computed, e.g. window: 24h",
        ),
        # Slack ids
        (
            "teams.delivery.channel",
            "#delivery",
            f'teams.delivery.channel: "#delivery" is not a Slack channel id: {CHANNEL_HELP}',
        ),
        (
            "leaders_channel",
            "c0leaders",
            f'leaders_channel: "c0leaders" is not a Slack channel id: {CHANNEL_HELP}',
        ),
        (
            "leaders",
            ["U0LEADER1", "@boss"],
            f'leaders[1]: "@boss" is not a Slack user id: {USER_HELP}',
        ),
        (
            "teams.delivery.supervisors",
            ["Alice"],
            f'teams.delivery.supervisors[0]: "Alice" is not a Slack user id: {USER_HELP}',
        ),
        (
            "teams.delivery.members",
            ["U0AGENT1", 42],
            f"teams.delivery.members[1]: 42 is not a Slack user id: {USER_HELP}",
        ),
        (
            "teams.delivery.supervisors",
            [],
            "teams.delivery.supervisors: needs at least one supervisor: "
            "they resolve cases and get escalations",
        ),
        (
            "teams.delivery.channel",
            DELETE,
            "teams.delivery.channel: is missing; every team needs the id of its Slack "
            "channel, e.g. channel: C0123ABCD",
        ),
        (
            "teams.support",
            team("C0DELIVERY"),
            "teams.support.channel: C0DELIVERY is already the channel of team delivery; "
            "each team needs a channel of its own",
        ),
        # open_case_when
        (
            "teams.delivery.open_case_when",
            {"csat_at_most": 6},
            "teams.delivery.open_case_when.csat_at_most: 6 is outside the CSAT scale 1-5",
        ),
        (
            "defaults.open_case_when.nps_at_most",
            11,
            "defaults.open_case_when.nps_at_most: 11 is outside the NPS scale 0-10",
        ),
        (
            "defaults.open_case_when.ces_at_least",
            0,
            "defaults.open_case_when.ces_at_least: 0 is outside the CES scale 1-7",
        ),
        (
            "defaults.open_case_when.csat_at_most",
            2.5,
            "defaults.open_case_when.csat_at_most: should be a whole number, but is a number (2.5)",
        ),
        # keys
        ("teams.Support", team(), f'teams.Support: "Support" is not a valid team key: {KEY_RULE}'),
        (
            "teams.all",
            team(),
            'teams.all: "all" cannot be a team key: /feedback list and stats read it as a filter word',
        ),
        (
            "teams.delivery.key",
            "ops",
            "teams.delivery.key: unknown key: a team's key is its name under teams:, "
            "so remove this line",
        ),
        (
            "categories.Late Delivery",
            {"domain": "process", "keywords": ["slow"]},
            f'categories.Late Delivery: "Late Delivery" is not a valid category key: {KEY_RULE}',
        ),
        (
            "categories.other",
            {"domain": "process", "keywords": ["slow"]},
            'categories.other: "other" cannot be a category key: it is always offered as a root cause',
        ),
        # categories, routing, retention
        (
            "categories.rude_staff.keywords",
            [],
            "categories.rude_staff.keywords: needs at least one keyword: "
            "comments containing it get this category",
        ),
        (
            "categories.rude_staff.keywords",
            ["rude", " "],
            "categories.rude_staff.keywords[1]: cannot be empty",
        ),
        (
            "categories.rude_staff",
            "people",
            'categories.rude_staff: should be a mapping of keys, but is text ("people")',
        ),
        (
            "routing.post-delivery",
            "deliveri",
            'routing.post-delivery: "deliveri" is not a configured team (did you mean delivery?)',
        ),
        (
            "routing.chat",
            "support",
            'routing.chat: "support" is not a configured team; configured teams: delivery',
        ),
        (
            "teams.delivery.verify_window",
            "10d",
            "teams.delivery.verify_window: must be whole weeks, e.g. 2w, not 10d (before and after "
            "a change are compared over the same weekdays)",
        ),
        (
            "defaults.systemic_after",
            0,
            "defaults.systemic_after: must be 1 or more, not 0 (resolutions of one cause that open "
            "a systemic case)",
        ),
        (
            "categories.late_delivery.owner",
            "@dana",
            'categories.late_delivery.owner: "@dana" is not a Slack user id: user ids look like '
            "U0123ABCD (in Slack, open the person's profile, click ⋮ More, then Copy member ID)",
        ),
        (
            "categories.late_delivery.playbook",
            [f"step {i}" for i in range(11)],
            "categories.late_delivery.playbook: has 11 entries; give at most 10 (the playbook "
            "shows on every case message)",
        ),
        (
            "retention_days",
            0,
            "retention_days: must be 1 or more, not 0 (feedback older than this many days is purged)",
        ),
        (
            "retention_days",
            "2 years",
            'retention_days: should be a whole number, but is text ("2 years")',
        ),
        # unknown keys, shapes, relations
        ("retension_days", 365, "retension_days: unknown key (did you mean retention_days?)"),
        ("teams.delivery.sla.ak", "5m", "teams.delivery.sla.ak: unknown key (did you mean ack?)"),
        (
            "teams.delivery.thresholds[0].value",
            80,
            "teams.delivery.thresholds[0].value: unknown key; the keys allowed "
            "here are metric, rule, below, above, window, baseline, min_responses, category",
        ),
        (
            "defaults.channel",
            "C0X",
            "defaults.channel: unknown key; the keys allowed here are timezone, huddle, sla, "
            "open_case_when, thresholds, verify_window, verify_min_responses, recurrence_window, "
            "systemic_after, sla_by_segment, privacy",
        ),
        (
            "teams.delivery",
            ["C0DELIVERY"],
            "teams.delivery: should be a mapping of team settings (name, channel, ...), "
            "but is a list",
        ),
        (
            "teams.delivery.name",
            2024,
            "teams.delivery.name: should be text, but is a number (2024)",
        ),
        (
            "leaders_channel",
            DELETE,
            "weekly_summary: needs leaders_channel: the weekly summary is posted there",
        ),
    ],
)
def test_each_problem_has_one_exact_line(path: str, value: object, expected: str) -> None:
    assert problems(spec_with((path, value))) == [f"{SOURCE}: {expected}"]
