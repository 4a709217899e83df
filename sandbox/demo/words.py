"""The demo's words: what customers write (and the personal data they type), names and segments."""

from __future__ import annotations

# Negative verbatims per topic; each one holds a keyword of its demo category (and none of an earlier one).
COMPLAINTS: dict[str, list[str]] = {
    "late_delivery": [
        "The parcel arrived two days late and nobody told me why.",
        "Third delay this month, I had to stay home all day for nothing.",
        "My order never arrived and tracking still says out for delivery.",
        "Delivery was delayed again without any notice.",
        "Way too late, the food was cold by the time it came.",
    ],
    "damaged_item": [
        "The box was crushed and the glasses inside were broken.",
        "Item arrived damaged, the screen is cracked.",
        "Everything was smashed, clearly thrown around in the van.",
    ],
    "rude_staff": [
        "The driver was rude when I asked him to bring it upstairs.",
        "Agent was impolite and talked over me the whole time.",
        "Very unhelpful, they just read a script at me.",
        "I was put on hold for 40 minutes and then the agent hung up on me.",
    ],
    "billing_error": [
        "I was charged twice for the same order.",
        "Still no refund after three weeks of emails.",
        "The invoice shows a plan I never signed up for.",
        "Overcharged on my monthly bill, again.",
        "There is a double charge on my statement and no one can explain it.",
    ],
    "website_bug": [
        "The website logged me out halfway through my order.",
        "Checkout kept spinning and never confirmed my payment.",
        "The login page does not accept my password even after a reset.",
        "Your website is impossible to use on a phone.",
    ],
    "app_error": [
        "The app shows an error every time I try to track my order.",
        "App crashes as soon as I open the order history.",
        "There is a bug where my address is saved but never shown.",
        "The app freezes on the payment screen.",
    ],
    "vague": [
        "Very disappointed, expected much better.",
        "Not good enough, I am thinking of switching.",
        "Poor experience overall.",
        "Nobody seems to care about customers any more.",
    ],
}
# Middling scores: lukewarm remarks, a few with a mild complaint keyword (which still counts as a complaint).
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
