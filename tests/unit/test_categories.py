"""Keyword categorisation: whole words, case, phrases, literal keywords, first configured wins."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.feedback.categories import Categorizer

TAXONOMY = {
    "late_delivery": ["late", "delay", "never arrived"],
    "rude_staff": ["rude", "impolite"],
    "app_error": ["crash", "error", "bug"],
}


@pytest.fixture
def categorizer() -> Categorizer:
    return Categorizer(TAXONOMY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The parcel was late again.", "late_delivery"),
        ("Late! Two days Late!", "late_delivery"),
        ("It arrived late.", "late_delivery"),
        ("LATE", "late_delivery"),
        ("(late)", "late_delivery"),
        ("Another delay, third this month", "late_delivery"),
        ("My order never arrived", "late_delivery"),
        ("My order Never Arrived at all", "late_delivery"),
        ("My order never  arrived", "late_delivery"),
        ("My order never\n  arrived", "late_delivery"),
        ("My order never\tarrived", "late_delivery"),
        ("The driver was rude to my mother", "rude_staff"),
        ("Very IMPOLITE on the phone", "rude_staff"),
        ("The app keeps crashing", None),  # whole words only: "crash" is not "crashing"
        ("The app crash-looped", "app_error"),  # '-' is not a word character
        ("error 500 at checkout", "app_error"),
        ("Found a bug in the tracking page", "app_error"),
    ],
)
def test_keywords_match_whole_words_and_phrases_case_insensitively(categorizer, text, expected):
    assert categorizer.categorize(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The chocolate melted",  # "late" inside a word
        "Even the latest model",
        "He was lately very helpful",
        "The delivery was delayed",  # no stemming: "delay" is not "delayed"
        "It was never delivered and never really arrived",  # the phrase's words, not the phrase
        "neverarrived",
        "Everything was fine, thanks!",
        "Prudent packaging",  # "rude" inside a word
        "The debugger is great",
    ],
)
def test_fragments_and_other_forms_do_not_match(categorizer, text):
    assert categorizer.categorize(text) is None


@pytest.mark.parametrize("text", [None, ""])
def test_no_comment_has_no_category(categorizer, text):
    assert categorizer.categorize(text) is None


def test_the_first_configured_category_wins_not_the_first_keyword_in_the_text(categorizer):
    text = "The driver was rude and the app showed an error, and on top of it all it was late."
    assert categorizer.categorize(text) == "late_delivery"
    assert (
        Categorizer({"app_error": ["error"], "rude_staff": ["rude"]}).categorize(text)
        == "app_error"
    )


def test_a_later_category_matches_when_earlier_ones_do_not(categorizer):
    assert categorizer.categorize("Rude courier, but the bug is worse") == "rude_staff"


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("c++", "the C++ SDK is broken", "hit"),
        ("c++", "written in c++.", "hit"),
        ("c++", "abc++ is not it", None),
        ("c++", "cxx", None),
        ("wi-fi", "the Wi-Fi in store was down", "hit"),
        ("wi-fi", "wifi was down", None),
        ("wi-fi", "wi fi", None),
        ("a.b", "axb", None),  # '.' is literal, not "any character"
        ("a.b", "see a.b now", "hit"),
        ("(broken)", "it is (broken) again", "hit"),
        ("$5 fee", "a $5 fee, really?", "hit"),
        ("$5 fee", "a $50 fee", None),
        ("24/7", "not 24/7 at all", "hit"),
        (
            "  never   arrived ",
            "never arrived",
            "hit",
        ),  # surrounding blanks in the config are ignored
    ],
)
def test_keywords_are_literal_text(keyword, text, expected):
    assert Categorizer({"hit": [keyword]}).categorize(text) == expected


def test_non_ascii_keywords_fold_case():
    c = Categorizer({"damaged": ["beschädigt", "abîmé"]})
    assert c.categorize("Paket BESCHÄDIGT angekommen") == "damaged"
    assert c.categorize("colis Abîmé") == "damaged"
    # case folding, not just lower-casing: "ß" and "SS" are the same word
    assert Categorizer({"road": ["Straße"]}).categorize("STRASSE gesperrt") == "road"


def test_a_category_without_keywords_never_matches():
    c = Categorizer({"other": [], "rude_staff": ["rude"]})
    assert c.categorize("rude") == "rude_staff"
    assert c.keys == ("other", "rude_staff")


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_a_blank_keyword_is_rejected_because_it_would_match_everything(blank):
    with pytest.raises(ValueError, match="'rude_staff': empty keyword"):
        Categorizer({"late_delivery": ["late"], "rude_staff": ["rude", blank]})


@dataclass
class _Category:  # the shape of config.teams.Category
    domain: str
    keywords: list[str] = field(default_factory=list)


def test_from_config_reads_keywords_and_keeps_the_configured_order():
    config = {
        "rude_staff": _Category("people", ["rude"]),
        "late_delivery": _Category("process", ["late", "never arrived"]),
    }
    c = Categorizer.from_config(config)
    assert c.keys == ("rude_staff", "late_delivery")
    assert c.categorize("late and rude") == "rude_staff"
    assert c.categorize("it never arrived") == "late_delivery"
    assert c.categorize("fine") is None


def test_from_config_with_no_categories():
    assert Categorizer.from_config({}).categorize("late") is None
