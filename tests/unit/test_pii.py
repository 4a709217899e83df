"""PII masking: what is masked, what must survive, and that masking is safe on any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.feedback.pii import mask


def test_the_example_from_the_brief():
    comment = (
        "Call me on 07700 900123 or mail jane.doe@example.co.uk — my card 4111 1111 1111 1111 "
        "was charged twice for order 98765432101"
    )
    assert mask(comment) == (
        "Call me on [phone] or mail [email] — my card [card] was charged twice for order 98765432101"
    )


@pytest.mark.parametrize("text", ["", "   ", "ok", "Great service, thanks!"])
def test_text_without_personal_data_comes_back_unchanged(text):
    assert mask(text) == text


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reply to jane.doe@example.co.uk please", "Reply to [email] please"),
        ("Write to JOHN_SMITH+orders@Mail.Example.COM.", "Write to [email]."),
        ("(maria-luisa@sub-domain.example.org)", "([email])"),
        ("mail jörg@müller.de, not the shop", "mail [email], not the shop"),
        ("a@b.co and c.d@e.fr", "[email] and [email]"),
        (
            "the link https://shop.example/?u=jane@example.com broke",
            "the link https://shop.example/?u=[email] broke",
        ),
    ],
)
def test_email_addresses_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "@jane said she would call back",  # a handle, not an address
        "<@U0AGENT1> please look at this",  # a Slack mention
        "we met @ the depot at 10:30",
        "root@localhost is not a real address",
        "prices went from 3 @ $2 to 3 @ $4",
    ],
)
def test_things_with_an_at_sign_that_are_not_addresses_survive(text):
    assert mask(text) == text


# --- IBAN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Refund to DE89 3704 0044 0532 0130 00 please", "Refund to [iban] please"),
        ("IBAN: GB82WEST12345698765432.", "IBAN: [iban]."),
        ("iban gb82 west 1234 5698 7654 32", "iban [iban]"),
        ("my account is de89370400440532013000", "my account is [iban]"),
        ("Norway: NO93 8601 1117 947, thanks", "Norway: [iban], thanks"),
        ("BE68 5390 0754 7034 from my bank", "[iban] from my bank"),
        ("old NL91ABNA0417164300 new FR14 2004 1010 0505 0001 3M02 606", "old [iban] new [iban]"),
        ("two: BE68 5390 0754 7034 DE89 3704 0044 0532 0130 00", "two: [iban] [iban]"),
    ],
)
def test_valid_ibans_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Refund to DE89 3704 0044 0532 0130 01 please",  # one digit off: fails mod-97
        "GB82WEST12345698765433",
        "DHL JD014600006281963123 is stuck",  # tracking number; JD is no IBAN country
        "part number AB12CDEF34567890",
    ],
)
def test_strings_that_only_look_like_ibans_survive(text):
    assert mask(text) == text


# --- cards ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("charged on 4111 1111 1111 1111 twice", "charged on [card] twice"),
        ("card 4111-1111-1111-1111.", "card [card]."),
        ("card:4111111111111111", "card:[card]"),
        (
            "my Amex 3782 822463 10005 and my Visa 4012888888881881",
            "my Amex [card] and my Visa [card]",
        ),
        ("amex 378282246310005", "amex [card]"),
        ("Diners 3056 930902 5904", "Diners [card]"),
        ("old 13-digit visa 4222222222222", "old 13-digit visa [card]"),
        ("19-digit UnionPay 6212 3456 7890 1234 569 failed", "19-digit UnionPay [card] failed"),
    ],
)
def test_luhn_valid_card_numbers_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 was declined",  # 16 digits that fail Luhn
        "order 1234567890123 never arrived",  # 13 digits, not Luhn-valid
        "invoice 98765432101234567",
        "Amazon order 112-1234567-1234567 was late",  # not a card grouping
        "tracking 9400 1000 0000 0000 0000 00",  # 22 digits: longer than any card
        "ref INV4111111111111111",  # glued to letters: an identifier
        "balance 0.4111111111111111",  # a decimal, not a card
        "0411 1111 1111 1111",  # no card number starts with 0
    ],
)
def test_numbers_that_are_not_cards_survive(text):
    assert mask(text) == text


# --- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "+1 (555) 123-4567",
        "+33 6 12 34 56 78",
        "+4915112345678",
        "0044 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+49-151-1234-5678",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "555 123 4567",
        "1-555-123-4567",
        "020 7946 0958",
        "07700 900123",
        "07700900123",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "0151-123-4567",
        "0151/1234567",
        "(020) 7946 0958",
    ],
)
def test_phone_numbers_are_masked(number):
    assert mask(f"Please call {number} after 5pm.") == "Please call [phone] after 5pm."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ring 07700 900123 24/7, nobody answers", "Ring [phone] 24/7, nobody answers"),
        ("called 020 7946 0958 2 times", "called [phone] 2 times"),
        ("called +44 20 7946 0958 3 times", "called [phone] 3 times"),
        ("tel:+33612345678", "tel:[phone]"),
        ("mobile: 07700 900123, home: 020 7946 0958", "mobile: [phone], home: [phone]"),
        ("(555) 123-4567 or 555-987-6543", "[phone] or [phone]"),
    ],
)
def test_phone_numbers_in_context(text, expected):
    assert mask(text) == expected


# --- what must survive ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # dates and times
        "Delivered on 2026-11-22 instead of 2026-11-20",
        "Promised for 22/11/2026, came 25/11/2026",
        "Termin am 22.11.2026 um 10:30",
        "01.12.2026 10:30 the driver rang once",
        "between 10:30 and 14:45",
        # prices
        "I paid $1,234.56 for this",
        "Shipping was € 49.99, way too much",
        "£12.50 + £3.99 delivery",
        "charged 1.234.567,89 RUB",
        # order and tracking numbers
        "Order #123456789 is missing",
        "order 98765432101 never arrived",
        "tracking 1Z999AA10123456784",
        "parcel 7489 2837 4928 stuck in the depot",
        # quantities, scores, percentages
        "3 items missing, 2 hours late",
        "I give it 5/10, last time 9/10",
        "only 60% of the order, 99.5% uptime my foot",
        "waited 45 minutes, then 2 more",
        # postcodes
        "deliver to SW1A 1AA London",
        "75001 Paris, 10115 Berlin",
        "Beverly Hills 90210-1234, Boston 02115-1234",
        "1234 AB Amsterdam",
        # versions and other dotted numbers
        "app v2.3.1 crashes, was fine in 2.2.10",
        "router at 192.168.1.1",
        # prose
        "The driver was rude and the parcel was late again.",
    ],
)
def test_non_personal_numbers_survive(text):
    assert mask(text) == text


def test_masking_is_ordered_so_a_card_is_not_taken_for_a_phone():
    assert mask("card 4111 1111 1111 1111, phone 020 7946 0958") == "card [card], phone [phone]"


def test_a_real_comment_with_everything():
    comment = (
        "Hi, order #123456789 (placed 22/11/2026) was 2 hours late. Refund £49.99 to "
        "GB82 WEST 1234 5698 7654 32 or the card 5555-5555-5555-4444. Reach me at +1 (555) 123-4567 "
        "or JANE@EXAMPLE.COM. Rating: 2/10."
    )
    assert mask(comment) == (
        "Hi, order #123456789 (placed 22/11/2026) was 2 hours late. Refund £49.99 to "
        "[iban] or the card [card]. Reach me at [phone] "
        "or [email]. Rating: 2/10."
    )


# --- properties -----------------------------------------------------------------------------

# Fragments that tend to form personal data when glued together, so the property tests reach the
# interesting cases, not only random characters.
_PIECES = st.sampled_from(
    [
        "4111 1111 1111 1111",
        "4111111111111111",
        "07700 900123",
        "+44 20 7946 0958",
        "0044 ",
        "555-123-4567",
        "(555) ",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "jane@example.com",
        "a@b.co",
        "@",
        "+",
        "(",
        ")",
        "-",
        ".",
        "/",
        " ",
        "0",
        "00",
        "1",
        "9",
        "DE",
        "x",
        "[phone]",
        "\n",
    ]
)
_TEXT = st.one_of(
    st.text(), st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=25).map("".join)
)


@given(_TEXT)
@example("07700 900123 4111111111111111")
@example("BE68 5390 0754 7034 DE89 3704 0044 0532 0130 00")
def test_mask_never_raises_and_is_idempotent(text):
    once = mask(text)
    assert isinstance(once, str)
    assert mask(once) == once


_NO_DIGIT_NO_AT = re.compile(r"[0-9@]")


@given(st.text().map(lambda s: _NO_DIGIT_NO_AT.sub("", s)))
def test_text_without_digits_or_at_signs_is_unchanged(text):
    assert mask(text) == text
