"""The demo's words: neutral and praising comments, the personal data customers type, names and segments."""

from __future__ import annotations

NEUTRAL = [
    "It was okay, nothing special.",
    "Fine in the end, but it took a while.",
    "Average. Did the job.",
    "Could be better, could be worse.",
    "A little late but the driver was lovely.",
    "Got there eventually after a second call.",
]
# Praise: free of every category keyword, so a happy customer is never counted as a complaint.
PRAISE: dict[str, list[str]] = {
    "delivery": [
        "Driver was friendly and left it exactly where I asked.",
        "Arrived a day early, brilliant!",
        "Quick and careful, thank you.",
        "Tracking was spot on, great service.",
    ],
    "support": [
        "Maya sorted it out in five minutes, thank you!",
        "Really patient and clear answers.",
        "Problem solved on the first call, impressive.",
        "Friendly agent who actually listened.",
    ],
    "billing": [
        "The new bill is much clearer than before.",
        "Payment went through in seconds.",
        "Thanks for sorting out my account so quickly.",
        "Easy to understand what I pay for now.",
    ],
}
GENERIC_PRAISE = [
    "Great service, thank you!",
    "Everything was perfect.",
    "Will recommend to friends.",
]
# Personal data customers really do type into comments; Loopbot must mask each kind (bot.feedback.pii).
PII = [
    " Call me on +44 20 7946 0958.",
    " You can reach me at {first}.{last}@example.com.",
    " My card 4111 1111 1111 1111 was used.",
    " Phone +1 (555) 123-4567 any time after 5pm.",
    " Email {first}{n}@example.org if you need details.",
    " Card ending 5500 0000 0000 0004, please check it.",
]
FIRST = ["jane", "omar", "li", "sofia", "raj", "emma", "lucas", "amara"]
LAST = ["doe", "haddad", "wang", "garcia", "patel", "smith", "silva", "okoro"]
SEGMENTS = (("consumer", "business", "vip"), (70, 22, 8))
CHANNELS = (("email", "sms", "in-app", "web"), (40, 20, 25, 15))
CARRIERS = ("FastShip", "UrbanVan", "ParcelPro")
PLANS = ("basic", "plus", "family", "business")
