"""The demo organisation: a valid Loopbot config of three teams, and the personas a sandbox lets you act as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Persona:
    """Someone the sandbox's user switcher can act as."""

    user_id: str
    name: str
    role: str  # frontline | supervisor | leader
    team: str | None  # None for a leader: leaders see every team


AGENT = Persona("U0AGENT1", "Alex Rivera", "frontline", "delivery")
SUPERVISOR = Persona("U0SUPER1", "Sam Okafor", "supervisor", "delivery")
LEADER = Persona("U0LEADER1", "Lee Chen", "leader", None)
PERSONAS = (AGENT, SUPERVISOR, LEADER)


@dataclass(frozen=True)
class DemoSilence:
    """A silence the seeding starts `hours_ago` before its `now`, still running when a sandbox opens."""

    team: str
    rule: str  # as `silence TEAM RULE` names it
    duration: str
    reason: str
    actor: str  # a supervisor of the team
    hours_ago: float


# Billing's supervisor silenced its double-charge complaints for a planned migration (SPEC §9): the
# digest, App Home and `/feedback silences` show it.
BILLING_SILENCE = DemoSilence(
    "billing",
    "complaints:billing_error",
    "2d",
    "invoice run migration, tracked in OPS-311",
    "U0SUPER4",
    hours_ago=3.0,
)

# Everyone the config names, so a sandbox (or an emulator's users.info) can show a real name for each id.
DISPLAY_NAMES: dict[str, str] = {
    "U0AGENT1": "Alex Rivera",
    "U0AGENT2": "Priya Nair",
    "U0AGENT3": "Tom Becker",
    "U0AGENT4": "Grace Mensah",
    "U0AGENT5": "Oliver Hughes",
    "U0AGENT6": "Chloe Martin",
    "U0AGENT7": "Arjun Mehta",
    "U0AGENT8": "Divya Rao",
    "U0SUPER1": "Sam Okafor",
    "U0SUPER2": "Hannah Lewis",
    "U0SUPER3": "Marco Rossi",
    "U0SUPER4": "Kavya Iyer",
    "U0LEADER1": "Lee Chen",
}

DEMO_CONFIG: dict[str, Any] = {
    "defaults": {
        "timezone": "UTC",
        "huddle": "0 9 * * mon-fri",
        "sla": {"ack": "30m", "resolve": "2d"},
        "open_case_when": {"csat_at_most": 2, "nps_at_most": 6, "ces_at_least": 5},
        # The demo's teams resolve hundreds of cases a month: at the default 5, every cause of every team
        # would be systemic within days. At 70 the causes with a corrective action stay quiet, and one or
        # two without one reach the leaders' channel.
        "systemic_after": 70,
    },
    "leaders": [LEADER.user_id],
    "leaders_channel": "C0LEADERS",
    "weekly_summary": "0 9 * * mon",
    "teams": {
        "delivery": {
            "name": "Delivery Ops",
            "channel": "C0DELIVERY",
            "supervisors": ["U0SUPER1"],
            "members": ["U0AGENT1", "U0AGENT2", "U0AGENT3"],
            "timezone": "America/New_York",
            "huddle": "30 7 * * mon-sat",
            "sla": {"ack": "15m", "resolve": "1d"},
            "thresholds": [
                {"metric": "csat", "below": 75, "window": "24h", "min_responses": 40},
                {"metric": "nps", "below": 10, "window": "7d", "min_responses": 100},
                {"metric": "cases", "above": 12, "window": "1h"},
                {"metric": "complaints", "category": "late_delivery", "above": 8, "window": "1h"},
            ],
        },
        "support": {
            "name": "Customer Support",
            "channel": "C0SUPPORT",
            "supervisors": ["U0SUPER2", "U0SUPER3"],
            "members": ["U0AGENT4", "U0AGENT5", "U0AGENT6"],
            "timezone": "Europe/London",
            "sla": {"ack": "1h", "resolve": "2d"},
            "thresholds": [
                # Support's CSAT slid some 4 points in two weeks (sandbox.demo.signals), still above the
                # fixed line, which is there for a sudden drop; the SPC rule sees the slide (rule 4). Its
                # 6-week baseline fits in the 60 days of history for every day it judges.
                {"metric": "csat", "below": 78, "window": "7d", "min_responses": 100},
                {"metric": "csat", "rule": "spc", "baseline": "6w", "min_responses": 20},
                {"metric": "complaints", "category": "rude_staff", "above": 4, "window": "24h"},
                {"metric": "complaints", "category": "app_error", "above": 6, "window": "4h"},
            ],
        },
        "billing": {
            "name": "Billing",
            "channel": "C0BILLING",
            "supervisors": ["U0SUPER4"],
            "members": ["U0AGENT7", "U0AGENT8"],
            "timezone": "Asia/Kolkata",
            "huddle": "0 10 * * mon-fri",
            "sla": {"ack": "30m", "resolve": "3d"},
            "thresholds": [
                {"metric": "csat", "below": 70, "window": "24h", "min_responses": 30},
                {"metric": "ces", "above": 4.5, "window": "24h", "min_responses": 20},
                {"metric": "complaints", "category": "billing_error", "above": 5, "window": "4h"},
            ],
        },
    },
    # Order matters: the first category with a matching keyword wins, so the specific ones come first.
    # Keywords are whole words without stemming, hence both "delay" and "delayed".
    "categories": {
        "late_delivery": {
            "domain": "process",
            "keywords": ["late", "delay", "delayed", "never arrived"],
            "playbook": [
                "Over two days late: refund the delivery fee",
                "Offer a morning slot for the redelivery",
                "Flag the route to the carrier",
            ],
            "owner": SUPERVISOR.user_id,
        },
        "damaged_item": {
            "domain": "product",
            "keywords": ["damaged", "broken", "crushed", "smashed"],
            "playbook": [
                "Send a replacement with a prepaid return label",
                "Ask for a photo and raise it with the warehouse",
            ],
            "owner": SUPERVISOR.user_id,
        },
        "rude_staff": {
            "domain": "people",
            "keywords": ["rude", "impolite", "unhelpful", "hung up"],
            "playbook": [
                "The team lead calls the customer back the same day",
                "Review the recording with the agent",
            ],
            "owner": "U0SUPER2",
        },
        "billing_error": {
            "domain": "process",
            "keywords": ["charged twice", "overcharged", "refund", "invoice", "double charge"],
            "playbook": [
                "Reverse a duplicate charge the same day",
                "Email a corrected invoice",
            ],
            "owner": "U0SUPER4",
        },
        "website_bug": {
            "domain": "technology",
            "keywords": ["website", "checkout", "web page", "login page"],
            "playbook": [
                "Take the order by phone",
                "File it with the web team: page, browser and time",
            ],
            "owner": LEADER.user_id,
        },
        "app_error": {
            "domain": "technology",
            "keywords": ["crash", "crashes", "crashed", "error", "bug", "freezes"],
            "playbook": [
                "Walk the customer through reinstalling the app",
                "Known crash: credit the account and share the workaround",
                "Report it to mobile with the app version",
            ],
            "owner": LEADER.user_id,
        },
    },
    "routing": {
        "post-delivery": "delivery",
        "driver-rating": "delivery",
        "help-center": "support",
        "live-chat": "support",
        "invoice-email": "billing",
    },
    "retention_days": 730,
}

# Team key -> IANA zone, as the feedback generator takes it (every demo team sets its own zone).
DEMO_ZONES: dict[str, str] = {key: team["timezone"] for key, team in DEMO_CONFIG["teams"].items()}
