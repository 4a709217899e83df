"""Mask personal data (e-mail addresses, IBANs, payment cards, phone numbers) in free-text comments."""

from __future__ import annotations

import re

__all__ = ["mask", "EMAIL", "IBAN", "CARD", "PHONE"]

EMAIL = "[email]"
IBAN = "[iban]"
CARD = "[card]"
PHONE = "[phone]"
# The placeholders hold no digit and no '@', so nothing masked is ever matched again.

# --- e-mail -----------------------------------------------------------------------------------
# The lookbehind is there for speed as much as correctness: without it, a long word next to an
# '@' would be rescanned from each of its characters (quadratic); with it, only from its start.
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")

# --- numbers: IBANs, cards, phones ------------------------------------------------------------
# One scan finds all three. Each alternative starts by consuming a digit, '+' or '(' and checks
# what precedes it with lookbehinds, instead of opening with a lookbehind: a pattern that opens
# with a character set lets `re` skip through the text, and one scan instead of three halves
# the cost of a comment full of dates and prices. Alternatives are tried in the order IBAN,
# card, phone, so a card is never taken for a phone number.
_LEAD = r"[0-9+(](?<![0-9].)"  # never starts inside a run of digits

# IBAN (ISO 13616), compact (GB82WEST12345698765432) or in groups of four as printed
# (DE89 3704 0044 0532 0130 00); 15 to 34 characters. The lead is the first check digit, so the
# match starts two characters after the IBAN does (see _mask_numbers).
_IBAN = (
    r"(?<=(?<!\w)[A-Za-z]{2}[0-9])[0-9]"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?!\w)"
)

# Payment card: 13 to 19 digits, no issuer number starts with 0. Not glued to a word, a '+'
# (phone) or a preceding number ("12 4111…", "1.4111…"), and not running on into another one:
# a card is never a fragment of a longer run of digits.
_CARD = (
    r"(?<=[1-9])(?<![\w+].)(?<![0-9][ .,\-].)"
    r"(?:[0-9]{12,18}"
    # printed in fours with one kind of separator: 4-4-4-1 … 4-4-4-4-3
    r"|[0-9]{3}(?P<s>[ \-])[0-9]{4}(?:(?P=s)[0-9]{4}){1,2}(?:(?P=s)[0-9]{1,4})?"
    # Amex 4-6-5, Diners 4-6-4
    r"|[0-9]{3}(?P<a>[ \-])[0-9]{6}(?P=a)[0-9]{4,5})"
    r"(?!\w)(?![ .,\-][0-9])"
)
# Only card-like groupings count, so an order number printed 112-1234567-1234567 survives.

# Phone number: a whole run of digit groups. It neither starts nor ends next to another group
# ("DE89 3704 0044 0532 0130 01" holds no phone number), and both sides look at the same
# separators, so masking one number never frees a neighbour for the next pass of `mask`.
_PAREN = r"[ .\-]?\([0-9]{1,4}\)[ .\-]?"  # "+1 (555) 123-4567", "+44 (0)20 7946 0958"
_PHONE = (
    r"(?<![\w+#].)(?<![0-9][ .\-].)(?:"
    # International: +CC or 00CC. The 00 form must be grouped ("0044 20 …"), since a compact
    # 00… number is as likely a zero-padded reference.
    r"(?P<intl>(?:(?<=\+)|(?<=0)0(?=[1-9][0-9]{0,2}[ .\-(]))[1-9][0-9]*"
    rf"(?:(?:{_PAREN}|[ .\-])[0-9]+){{0,8}})"
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567. The lead is
    # the 1, the '(' or the first digit of the area code.
    r"|(?P<nanp>(?P<nanp_core>(?:(?:(?<=\()|(?<=1)[ .\-]?\()[2-9][0-9]{2}\)[ .\-]?[0-9]{3}[ .\-]"
    r"|(?:(?<=[2-9])|(?<=1)[ .\-]?[2-9])[0-9]{2}(?P<n>[ .\-])[0-9]{3}(?P=n))[0-9]{4})"
    r"(?: [0-9]{1,4})?)"
    # National with a trunk 0 and one kind of separator throughout, so a date followed by a
    # time (01.12.2026 10:30) is not one number: 020 7946 0958, 06 12 34 56 78, 0151-123-4567,
    # (020) 7946 0958.
    r"|(?P<trunk>(?<=\()0[1-9][0-9]{0,4}\) ?[0-9]{1,8}(?:[ .\-][0-9]{1,8}){0,4}"
    r"|(?<=0)[1-9][0-9]{0,4}(?P<t>[ .\-/])[0-9]{1,8}(?:(?P=t)[0-9]{1,8}){0,5})"
    # ... or in one piece: 07700900123, 0612345678.
    r"|(?P<compact>(?<=0)[1-9][0-9]{8,9}(?!\w))"
    r")(?![0-9])(?![ .\-][0-9(+])"
)

_NUMBER_RE = re.compile(rf"{_LEAD}(?:(?P<iban>{_IBAN})|(?P<card>{_CARD})|(?P<phone>{_PHONE}))")
_HAS_DIGIT = re.compile(r"[0-9]").search
_DIGIT_RUN_RE = re.compile(r"[0-9]+")

# Countries of the SWIFT IBAN registry plus those issuing IBAN-format numbers outside it.
# Without this, a courier's tracking number shaped like "JD01 4600 …" would be masked whenever it
# happened to pass mod-97 (1 in 97). Lengths per country are deliberately not checked: the
# registry changes them (Costa Rica went from 21 to 22), and a stale table would leak real IBANs.
_IBAN_COUNTRIES = frozenset(
    "AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL"
    " GR GT HN HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO"
    " OM PK PL PS PT QA RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE"
    # experimental / national IBANs (Nordea, iban.com lists)
    " AO BF BJ CF CG CI CM CV DZ GA GQ GW IR KM MA MG ML MZ NE SN TD TG"
    # territories that sometimes print their own code instead of FR or GB
    " BL GF GP MF MQ NC PF PM RE TF WF YT GG IM JE".split()
)

# Luhn: every second digit from the right is doubled, minus 9 when that exceeds 9.
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# Digits a phone number may have: E.164 allows at most 15 after the '+'; national numbers with a
# trunk 0 have 10 to 12 (fewer would take in dd.mm.yyyy dates and ZIP+4 codes like 02115-1234).
_PHONE_DIGITS = {"intl": (7, 15), "trunk": (10, 12)}


def _iban_ok(compact: str) -> bool:
    if compact[:2].upper() not in _IBAN_COUNTRIES:
        return False
    rearranged = compact[4:] + compact[:4]
    # int(c, 36) maps 0-9 to themselves and A..Z (either case) to 10..35, as ISO 7064 wants.
    return int("".join([str(int(c, 36)) for c in rearranged])) % 97 == 1


def _mask_iban(s: str) -> str | None:
    if " " not in s:
        return IBAN if _iban_ok(s) else None
    # The grouped form can run on into the prose ("BE68 5390 0754 7034 from my bank" takes
    # "from" as a fifth group), so take the longest run of whole groups that validates.
    groups = s.split(" ")
    for n in range(len(groups), 3, -1):
        compact = "".join(groups[:n])
        if len(compact) >= 15 and _iban_ok(compact):
            return IBAN + s[len(" ".join(groups[:n])) :]
    return None


def _luhn_ok(digits: str) -> bool:
    total = sum(map(int, digits[-1::-2]))
    total += sum([_LUHN_DOUBLED[int(d)] for d in digits[-2::-2]])
    return total % 10 == 0


def _mask_card(s: str) -> str | None:
    digits = s.replace(" ", "").replace("-", "")
    return CARD if 13 <= len(digits) <= 19 and _luhn_ok(digits) else None


def _mask_phone(m: re.Match[str]) -> str | None:
    s = m.group()
    if m.group("compact") is not None:
        return PHONE
    if m.group("nanp") is not None:
        # Exactly ten digits; a trailing group belongs to what follows ("555-123-4567 24/7").
        return PHONE + s[m.end("nanp_core") - m.start() :]
    low, high = _PHONE_DIGITS["intl" if m.group("intl") is not None else "trunk"]
    # (end, digits so far, digits in the group) at every place the number could end
    ends: list[tuple[int, int, int]] = []
    count = 0
    # The 00 prefix stands for '+' and is not part of the number.
    for run in _DIGIT_RUN_RE.finditer(s, 2 if s.startswith("00") else 0):
        count += run.end() - run.start()
        if not s.startswith(")", run.end()):
            ends.append((run.end(), count, run.end() - run.start()))
    _, total, last = ends[-1]
    if low <= total <= high and last > 1:
        return PHONE
    # A short last group is a number of its own: "020 7946 0958 2 times", "07700 900123 24/7".
    # (Numbers do not end in a one-digit group, hence `last > 1` above.)
    if last <= 2 and len(ends) > 1 and low <= ends[-2][1] <= high:
        return PHONE + s[ends[-2][0] :]
    return None


def _mask_numbers(text: str) -> str:
    parts: list[str] = []
    done = 0
    for m in _NUMBER_RE.finditer(text):
        start = m.start()
        kind = m.lastgroup
        if kind == "iban":
            start -= 2  # the country code, before the lead
            new = _mask_iban(text[start : m.end()])
        elif kind == "card":
            new = _mask_card(m.group())
        else:
            new = _mask_phone(m)
        if new is not None:  # None: it did not validate, leave it as written
            parts += (text[done:start], new)
            done = m.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _mask_once(text: str) -> str:
    if "@" in text:
        text = _EMAIL_RE.sub(EMAIL, text)
    if _HAS_DIGIT(text):
        text = _mask_numbers(text)
    return text


def mask(text: str) -> str:
    """Return `text` with e-mail addresses, IBANs, card numbers and phone numbers replaced.

    Only numbers that validate are masked (mod-97 for IBANs, Luhn for cards), so order,
    tracking and invoice numbers survive. Idempotent: mask(mask(s)) == mask(s).
    """
    if not text:
        return text
    # A number can be held back by a neighbour that is masked in the same pass: in
    # "BE68 5390 0754 7034 DE89 3704 0044 0532 0130 00" the first IBAN runs on into the second.
    # Repeat until nothing changes; this ends, because every change removes at least one digit
    # or '@' and placeholders add none. Text without personal data takes a single pass.
    while True:
        masked = _mask_once(text)
        if masked == text:
            return masked
        text = masked
