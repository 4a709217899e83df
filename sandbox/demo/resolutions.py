"""How the demo's supervisors resolve cases: the cause they name, what they did, why, and the whys."""

from __future__ import annotations

import random
from typing import Any

from config.teams import LoopbotConfig

OUTCOME_WEIGHTS = {"fixed": 55, "workaround": 20, "no_action": 15, "duplicate": 10}
WHYS_SHARE = 0.2  # the share of resolutions that dig into why it happened
RATIONALE_SHARE = 0.2  # the share of fixed or workaround resolutions that say why this remedy

ACTIONS: dict[str, list[str]] = {
    "late_delivery": [
        "Called the customer, apologised and refunded the delivery fee.",
        "Rebooked for a morning slot and flagged the route to the carrier.",
        "Escalated the parcel with the carrier; it was delivered the next day.",
    ],
    "damaged_item": [
        "Sent a free replacement and a prepaid return label.",
        "Refunded the damaged item and raised a packaging issue with the warehouse.",
    ],
    "rude_staff": [
        "Apologised to the customer; coached the agent in the weekly one-to-one.",
        "Reviewed the call recording with the team lead and called the customer back.",
    ],
    "billing_error": [
        "Reversed the duplicate charge and emailed a corrected invoice.",
        "Issued the refund and added a note to the account.",
    ],
    "website_bug": [
        "Reproduced the problem, filed it with the web team, and placed the order by phone.",
        "Reset the customer's session; the fix ships with the next release.",
    ],
    "app_error": [
        "Walked the customer through reinstalling the app; bug reported to mobile.",
        "Confirmed a known crash, shared the workaround and credited the account.",
    ],
}
GENERIC_ACTIONS = [
    "Called the customer back and talked it through.",
    "Emailed an apology with a goodwill voucher.",
    "Followed up by phone; the customer is happy with the answer.",
]
# Why nothing was done: required for no_action.
NO_ACTION_RATIONALES = [
    "The customer could not be reached after three attempts.",
    "Expected behaviour; explained the policy.",
    "Already handled under another case.",
]
# Why this remedy and not another: optional, given now and then for the other outcomes.
RATIONALES: dict[str, list[str]] = {
    "late_delivery": [
        "Over two days late, so the delivery fee is refunded under the delivery promise.",
        "The customer needed it before the weekend; a refund would not have helped.",
    ],
    "damaged_item": [
        "A replacement, not a refund: the customer still wants the item.",
        "Photos confirm transit damage, so no return is needed.",
    ],
    "rude_staff": [
        "The recording confirms the complaint; the apology came from the team lead.",
    ],
    "billing_error": [
        "Refunded at once: the duplicate charge is visible in the payment log.",
        "A credit note rather than a refund, as the customer asked.",
    ],
    "website_bug": ["Ordered by phone as a workaround until the web team ships the fix."],
    "app_error": ["A known crash with a fix on the way; the credit keeps the customer with us."],
}
REOPEN_REASONS = [
    "The customer wrote again: the problem is back.",
    "The refund did not arrive after all.",
    "Replacement also arrived damaged.",
]
# Chains of "why did it happen, why did that happen", one line each, per cause.
WHYS: dict[str, list[tuple[str, ...]]] = {
    "late_delivery": [
        (
            "The parcel missed the evening trunk to the depot.",
            "The warehouse cut-off moved to 17:00 but the carrier still collects at 16:30.",
            "Nobody told the carrier when the cut-off changed.",
        ),
        (
            "The driver's route had 40 more stops than planned.",
            "Two drivers were off sick and nobody rebalanced the routes.",
        ),
    ],
    "damaged_item": [
        (
            "The glasses broke in transit.",
            "They were packed in a single-walled box with no corner protection.",
            "Fragile items use the same boxes as everything else.",
        ),
        (
            "The box was crushed in the van.",
            "Heavy parcels are loaded on top of light ones.",
            "The loading guide does not mention parcel weight.",
        ),
    ],
    "rude_staff": [
        (
            "The agent cut the customer off.",
            "The agent was on their fourth escalated call in a row.",
            "Escalations all go to whoever is free, not to senior agents.",
        ),
        (
            "The call was transferred cold and dropped.",
            "Agents are not trained on warm handovers.",
        ),
    ],
    "billing_error": [
        (
            "The card was charged twice.",
            "The payment gateway retried after a timeout.",
            "A retry does not check whether the first capture went through.",
        ),
        (
            "The invoice showed the wrong plan.",
            "The plan change was keyed in after the billing run.",
        ),
    ],
    "website_bug": [
        (
            "Checkout never confirmed the payment.",
            "The payment page timed out on mobile data.",
            "The page loads three tracking scripts before the form.",
        ),
    ],
    "app_error": [
        (
            "The app crashed on the order history.",
            "One old order had no delivery address.",
            "The app assumes every order has one.",
        ),
        (
            "The app froze on the payment screen.",
            "The saved card had expired.",
            "Expired cards are not caught before the payment screen.",
        ),
    ],
}


def resolution(rng: random.Random, config: LoopbotConfig, category: str | None) -> dict[str, Any]:
    """The arguments of one resolution (outcome, cause, action, and now and then a rationale and
    whys) for a case whose comment fell in `category`."""
    keys = list(config.categories)
    if category in config.categories and rng.random() < 0.85:
        cause = category
    elif keys and rng.random() < 0.5:
        # The keyword guessed wrong, or the comment said nothing: the real cause differs.
        cause = rng.choice(keys)
    else:
        cause = "other"
    outcome = rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
    args: dict[str, Any] = {
        "outcome": outcome,
        "root_cause": cause,
        "source": "modal" if rng.random() < 0.7 else "command",
        "action": rng.choice(ACTIONS.get(cause, GENERIC_ACTIONS)),
    }
    if outcome == "no_action":
        args["rationale"] = rng.choice(NO_ACTION_RATIONALES)
    elif outcome != "duplicate" and cause in RATIONALES and rng.random() < RATIONALE_SHARE:
        args["rationale"] = rng.choice(RATIONALES[cause])
    # Whys come with the modal (the one-line command has no place for them), for a real cause.
    if args["source"] == "modal" and cause in WHYS and outcome != "duplicate":
        if rng.random() < WHYS_SHARE:
            args["whys"] = list(rng.choice(WHYS[cause]))
    return args
