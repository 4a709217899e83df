"""The demo's corrective actions: what each team changed and when, and playing them through a seeding."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.action_escalations import ActionEscalations
from bot.cases.action_model import NewAction
from bot.cases.lifecycle import Cases
from bot.cases.model import CaseChange
from bot.cases.verification import Verifier, Windows
from config.teams import LoopbotConfig, Team

ATTACH_SHARE = 0.35  # of the later resolutions of the cause, those that join the open action
# Per action: each attachment is a line in its thread, replayed into Slack when a sandbox starts.
MAX_ATTACHED = 4
# By then no resolution of the cause came to plan it from: it is planned with the command.
FALLBACK = timedelta(days=2)
JOB_DELAY = timedelta(minutes=1)  # the verification and escalation jobs run every minute


@dataclass(frozen=True)
class Improvement:
    """One corrective action of the demo's past; times in days before the seeding's `now`."""

    team: str
    cause: str
    owner: str
    text: str
    planned: float
    due: float  # negative: still ahead
    live: float | None = None  # when it was marked done; None: still planned
    done_text: str = ""
    # From `live` on, the feedback generator scales the cause's complaints (and the unhappy customers
    # they stand for) by this: below 1 the change worked, 1 it changed nothing.
    effect: float = 1.0
    # Born from resolving a case of the cause, with these whys; empty: planned with the `plan` command.
    whys: tuple[str, ...] = ()


# Each story shows a state of SPEC §8 (the Verifier, not this list, decides the verified ones).
IMPROVEMENTS = (
    # verified: the new invoicing system halves double charges
    Improvement(
        "billing",
        "billing_error",
        "U0SUPER4",
        "Move every account to the new invoicing system: one itemised bill per cycle.",
        planned=57,
        due=43,
        live=40,
        done_text="All accounts are on the new invoicing system.",
        effect=0.4,
    ),
    # planned and overdue: the second carrier, still not signed when UrbanVan's trouble began
    Improvement(
        "delivery",
        "late_delivery",
        "U0SUPER1",
        "Book ParcelPro as a second carrier for the Eastside routes.",
        planned=50,
        due=4,
        whys=(
            "Eastside parcels wait a day at the UrbanVan depot.",
            "UrbanVan is short of drivers and has no cover.",
            "Every Eastside route depends on that one carrier.",
        ),
    ),
    # verified: sturdier boxes, far fewer breakages
    Improvement(
        "delivery",
        "damaged_item",
        "U0SUPER1",
        "Pack fragile items in double-walled boxes with corner protectors.",
        planned=45,
        due=35,
        live=33,
        done_text="Double-walled boxes are in use at both warehouses.",
        effect=0.15,
        whys=(
            "The glasses broke in transit.",
            "They were packed in a single-walled box with no corner protection.",
            "Fragile items use the same boxes as everything else.",
        ),
    ),
    # not verified: the hotfix shipped, the crashes did not stop
    Improvement(
        "support",
        "app_error",
        "U0SUPER3",
        "Ship hotfix 4.12.1 for the order-history crash.",
        planned=42,
        due=33,
        live=31,
        done_text="Hotfix 4.12.1 is live in both app stores.",
        whys=(
            "The app crashed on the order history.",
            "One old order had no delivery address.",
            "The app assumes every order has one.",
        ),
    ),
    # planned, due in a few days: the next step once the invoicing fix was verified
    Improvement(
        "billing",
        "billing_error",
        "U0SUPER4",
        "Check for an earlier capture before the gateway retries a card payment.",
        planned=22,
        due=-3,
        whys=(
            "The card was charged twice.",
            "The payment gateway retried after a timeout.",
            "A retry does not check whether the first capture went through.",
        ),
    ),
    # done, its after window still open
    Improvement(
        "support",
        "rude_staff",
        "U0SUPER2",
        "Warm-handover training for every agent; cold transfers switched off.",
        planned=13,
        due=6,
        live=7,
        done_text="All agents trained; the phone system no longer allows cold transfers.",
        whys=(
            "The call was transferred cold and dropped.",
            "Agents are not trained on warm handovers.",
        ),
    ),
)

# (when, what, which improvement): plan | want (plan it from the next resolution) | done | verify | escalate
Move = tuple[datetime, str, Improvement]


class Story:
    """Plays IMPROVEMENTS through a seeding at their simulated times: planned by command or from a
    resolution of their cause, joined by later resolutions, marked done, then verified (or escalated
    when overdue) by the product's own jobs."""

    def __init__(
        self,
        cases: Cases,
        config: LoopbotConfig,
        *,
        now: datetime,
        start: datetime,
        rng: random.Random,
        on_shift: Callable[[Team, datetime], datetime],
    ):
        self.cases, self.config = cases, config
        self.now, self.start, self.rng, self.on_shift = now, start, rng, on_shift
        self.verifier = Verifier(cases.sessions, config)
        self.escalations = ActionEscalations(cases.sessions, config)
        self.refs: dict[Improvement, str] = {}
        self.wanted: dict[tuple[str, str], Improvement] = {}
        self.open: dict[tuple[str, str], str] = {}  # (team, cause) -> an action cases may join
        self.attached: Counter[str] = Counter()

    def moves(self) -> list[Move]:
        """The scripted moves; a story that began before the seeded history is left out."""
        out: list[Move] = []
        for imp in IMPROVEMENTS:
            team = self.config.teams.get(imp.team)
            planned = self._at(team, imp.planned) if team else None
            if team is None or planned is None or planned < self.start:
                continue
            if imp.whys:
                out += [(planned, "want", imp), (planned + FALLBACK, "plan", imp)]
            else:
                out.append((planned, "plan", imp))
            live = self._at(team, imp.live) if imp.live is not None else None
            if live is not None:
                out.append((live, "done", imp))
            elif (due := self._due(team, imp)) + JOB_DELAY < self.now:
                out.append((due + JOB_DELAY, "escalate", imp))
        return out

    def act(self, what: str, imp: Improvement, at: datetime) -> list[Move]:
        """Carry out one move; returns the moves it leads to (a done action's verification)."""
        key = (imp.team, imp.cause)
        if what == "want":
            self.wanted[key] = imp
        elif what == "plan" and imp not in self.refs:
            self.wanted.pop(key, None)
            change = self.cases.actions.plan(
                imp.team,
                cause=imp.cause,
                due=self._due_date(imp),
                owner=imp.owner,
                text=imp.text,
                actor=imp.owner,
                source="command",
                now=at,
            )
            self._planned(imp, change.action.ref)
        elif what == "done" and imp in self.refs:
            change = self.cases.actions.done(
                self.refs[imp],
                live=None,
                text=imp.done_text,
                actor=imp.owner,
                source="button",
                now=at,
            )
            team = self.config.teams[imp.team]
            live = change.action.live_at or at
            check = Windows.of(live, team.verify_window, team.tz).closes(team.tz) + JOB_DELAY
            return [(check, "verify", imp)] if check < self.now else []
        elif what == "verify":
            for ref, _ in self.verifier.run(at):
                self.open = {k: v for k, v in self.open.items() if v != ref}
        elif what == "escalate":
            self.escalations.run(at)
        return []

    def resolving(self, team: str, args: dict[str, Any]) -> Improvement | None:
        """Let a resolution about to be made plan a wanted action (with its whys) or join an open one;
        the improvement it plans, if any, to pass to `resolved`."""
        key = (team, args["root_cause"])
        if args["outcome"] not in ("fixed", "workaround"):
            return None
        imp = self.wanted.pop(key, None)
        if imp is not None:
            args.update(
                corrective=NewAction(imp.text, imp.owner, self._due_date(imp)),
                whys=list(imp.whys),
                source="modal",  # whys and a corrective action come with the modal
            )
            return imp
        ref = self.open.get(key)
        if ref and self.attached[ref] < MAX_ATTACHED and self.rng.random() < ATTACH_SHARE:
            args["attach"] = ref
            self.attached[ref] += 1
        return None

    def resolved(self, imp: Improvement, change: CaseChange) -> None:
        self._planned(imp, change.event.details["corrective"])

    def _planned(self, imp: Improvement, ref: str) -> None:
        self.refs[imp] = ref
        self.open[(imp.team, imp.cause)] = ref

    def _at(self, team: Team, days: float) -> datetime | None:
        """`days` before now, in the team's shift: a little after its start when it had to wait."""
        wanted = self.now - timedelta(days=days)
        at = self.on_shift(team, wanted)
        if at != wanted:
            at += timedelta(minutes=self.rng.uniform(5, 90))
        return at if at < self.now else None

    def _due_date(self, imp: Improvement) -> str:
        """The due date as people give it: a day (midnight in the team's zone)."""
        tz = self.config.teams[imp.team].tz
        return (self.now - timedelta(days=imp.due)).astimezone(tz).date().isoformat()

    def _due(self, team: Team, imp: Improvement) -> datetime:
        return datetime.fromisoformat(self._due_date(imp)).replace(tzinfo=team.tz)
