from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.text import clean_question, fold, sentence_spans, tokenize


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_missing_space_after_period_is_a_boundary() -> None:
    text = "man habe auch amerikanische Zusagen einzubringen.Macron betonte nachdrücklich, dass."
    assert sentences(text) == [
        "man habe auch amerikanische Zusagen einzubringen.",
        "Macron betonte nachdrücklich, dass.",
    ]


def test_german_quotes_stay_with_their_sentence() -> None:
    text = (
        "Macron stellte klar: „Diese Streitmacht hat kein Ziel. Sie soll absichern.“ "
        "Danach ging er."
    )
    assert sentences(text) == [
        "Macron stellte klar: „Diese Streitmacht hat kein Ziel.",
        "Sie soll absichern.“",
        "Danach ging er.",
    ]


def test_straight_quotes_and_numbers_and_abbreviations() -> None:
    text = (
        'Es gebe Planungen "um Sicherheit vorzubereiten", heißt es. '
        "Am 6. Januar kamen ca. 35 Staaten."
    )
    assert sentences(text) == [
        'Es gebe Planungen "um Sicherheit vorzubereiten", heißt es.',
        "Am 6. Januar kamen ca. 35 Staaten.",
    ]


def test_scholarly_abbreviations_are_no_boundary() -> None:
    text = "Belegt von Jones et al. 1998 und Briffa 2000. Im 12. Jh. Neues. Ja."
    assert sentences(text) == [
        "Belegt von Jones et al. 1998 und Briffa 2000.",
        "Im 12. Jh. Neues.",
        "Ja.",
    ]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Im 19. Jahrhundert wuchs sie.", 1),
        ("Es war der 3. Platz für ihn.", 1),
        ("Hamburg, 6. Januar 2025 war kalt.", 1),
        ("Nach dem 2. Weltkrieg kam er.", 1),
        ("Es war der Super Bowl 50. Der Sieger hieß Denver.", 2),
        ("Sie scheiterten im Jahr 1955. Die Fusion kam nie.", 2),
        ("Sie führt über die Route 99. Sie ist alt.", 2),
        ("1. Die Lage ist ernst.", 1),
        ("Am 1. 2. 2025 begann es.", 1),
        ("Die Lage ist ernst. 2. Die Folgen sind klar.", 2),
        ("Punkte:\n1. Die Lage\n2. Die Folgen", 1),
        ("Hamburg, 6. Jan. 2025 war kalt.", 1),
        ("Im 19. Jahrhunderts Mitte.", 1),
        ("„Der 3. Platz“ ging an ihn.", 1),
        ("Unser 2. Kind kam.", 1),
        ("Im XIX. Jahrhundert wuchs sie.", 1),
        ("Ludwig XIV. Er regierte lange.", 2),
        ("Er kaufte eine CD. Dann ging er.", 2),  # no roman numeral before a month or century
        ("Er kam in Haus 5. Mainz ist schön.", 2),  # not "Mai"
        ("Er wurde 2. Julian wurde 3.", 2),  # not "Juli"
    ],
)
def test_a_number_ends_a_sentence_unless_it_is_an_ordinal(text: str, parts: int) -> None:
    assert len(sentences(text)) == parts, sentences(text)


def test_abbreviation_u_s_a_is_no_boundary() -> None:
    assert sentences("Die U.S.A. sind groß. Ja.") == ["Die U.S.A. sind groß.", "Ja."]


@given(st.text(alphabet=st.sampled_from(list('ab .!?„“"\nXY26')), max_size=80))
def test_sentence_spans_cover_all_text(text: str) -> None:
    spans = sentence_spans(text)
    covered = "".join(text[a:b] for a, b in spans)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    for (a, b), (c, _) in itertools.pairwise(spans):
        assert a < b <= c
    for a, b in spans:
        assert text[a:b] == text[a:b].strip() and b > a


@given(st.text(max_size=200))
def test_tokens_are_substrings_at_their_offsets(text: str) -> None:
    for tok in tokenize(text, base=7):
        assert text[tok.start - 7 : tok.end - 7] == tok.surface


def test_fold() -> None:
    assert fold("Präsident") == "prasident"
    assert fold("Élysée") == "elysee"
    assert fold("Maßnahmen") == "massnahmen"


def test_clean_question_removes_invisible_characters() -> None:
    assert clean_question("  Wer\u200b nahm\u202e teil?\x00\n ") == "Wer nahm teil?"
